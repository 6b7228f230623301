#!/usr/bin/env bash
# The main job on the bundled example, as far as mloop goes today: make a workspace, sniff
# and load UCI Adult, ingest its training and test files with the Adult contract (the clean
# rows become versions, bad rows go to quarantine), train an XGBoost model and a logistic
# baseline on them as tracked runs, compare the two, and predict the test set with the trees.
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
echo
echo "== mloop train --config examples/adult/xgboost.yaml"
"$mloop" --workspace "$workspace" train --config "$root/examples/adult/xgboost.yaml"
echo
echo "== mloop train --config examples/adult/logistic.yaml (the baseline, 5-fold cross-validated)"
"$mloop" --workspace "$workspace" train --config "$root/examples/adult/logistic.yaml"
echo
echo "== mloop runs list"
"$mloop" --workspace "$workspace" runs list
run_id() {
  "$mloop" --workspace "$workspace" --json runs list --filter "attributes.run_name = '$1'" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["run_id"])'
}
run_id=$(run_id xgboost)
echo
echo "== mloop runs compare (the trees against the baseline)"
"$mloop" --workspace "$workspace" runs compare "$run_id" "$(run_id logistic)"
echo
echo "== the baseline becomes the champion through the gates (examples/adult/gates.yaml)"
gates=$root/examples/adult/gates.yaml
"$mloop" --workspace "$workspace" models register "$(run_id logistic)" --name income
"$mloop" --workspace "$workspace" evaluate --model income@1 --data adult_test@1 --gates "$gates" \
  --bootstrap 0 >/dev/null
"$mloop" --workspace "$workspace" models promote income@1
echo
echo "== mloop evaluate: the XGBoost candidate against the champion"
"$mloop" --workspace "$workspace" models register "$run_id" --name income
"$mloop" --workspace "$workspace" evaluate --model income@2 --data adult_test@1 --gates "$gates" \
  --bootstrap 300 --html "$workspace/income-2-model-card.html"
"$mloop" --workspace "$workspace" models promote income@2
echo "Model card: $workspace/income-2-model-card.html"
echo
echo "== mloop audit verify"
"$mloop" --workspace "$workspace" audit log income
"$mloop" --workspace "$workspace" audit verify
echo
echo "== mloop predict --model income@champion --input adult_test@1"
"$mloop" --workspace "$workspace" predict --model income@champion --input adult_test@1 \
  --output "$workspace/adult_test-predictions.csv"
head -4 "$workspace/adult_test-predictions.csv"
