#!/usr/bin/env bash
# The main job on the bundled example, as far as mloop goes today: make a workspace,
# sniff and load UCI Adult, and print its schema and profile.
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
