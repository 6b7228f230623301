#!/usr/bin/env bash
# The main job on the bundled example, as far as mloop goes today: make a workspace, sniff
# and load UCI Adult, then ingest its training and test files with the Adult contract (the
# clean rows become versions, bad rows go to quarantine) and show what was kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mloop=${1:-$root/build/src/cli/mloop}
datasets=$(realpath "${MLOOP_DATASETS_DIR:-$root/../shared/datasets}")
workspace=$root/build/demo-workspace

adult_names=age,workclass,fnlwgt,education,education_num,marital_status,occupation,relationship,race,sex,capital_gain,capital_loss,hours_per_week,native_country,income

rm -rf "$workspace"
echo "== mloop init $workspace"
"$mloop" init "$workspace"
echo
echo "== mloop inspect adult.data"
"$mloop" --workspace "$workspace" inspect "$datasets/adult/adult.data" --names "$adult_names"
contract=$root/src/data/testdata/adult_contract.yaml
echo
echo "== mloop ingest adult.data --dataset adult"
"$mloop" --workspace "$workspace" ingest "$datasets/adult/adult.data" --dataset adult \
  --contract "$contract"
echo
echo "== mloop ingest adult.test --dataset adult_test (labels end in a full stop)"
"$mloop" --workspace "$workspace" ingest "$datasets/adult/adult.test" --dataset adult_test \
  --contract "$contract"
echo
echo "== mloop datasets list"
"$mloop" --workspace "$workspace" datasets list
echo
echo "== mloop datasets lineage adult@1"
"$mloop" --workspace "$workspace" datasets lineage adult@1
"$mloop" --workspace "$workspace" datasets show adult@1 --html "$workspace/adult-1.html" >/dev/null
echo
echo "HTML report of adult@1: $workspace/adult-1.html"
