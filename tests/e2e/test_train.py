"""End-to-end tests of `mloop train` and `mloop runs`: the real binary on the Adult and Bike
Sharing data, in one workspace made once (ingesting and training take seconds).

Run by ctest with MLOOP (the binary) and MLOOP_DATASETS_DIR (../shared/datasets) set.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

MLOOP = os.environ["MLOOP"]
DATASETS = os.environ["MLOOP_DATASETS_DIR"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(ROOT, "src", "data", "testdata", "adult_contract.yaml")
EXAMPLES = os.path.join(ROOT, "examples")


def run(ws, *args, timeout=600):
    env = dict(os.environ, MLOOP_NO_PROGRESS="1", MLOOP_WORKSPACE=ws)
    return subprocess.run([MLOOP, *args], capture_output=True, timeout=timeout, env=env)


def run_json(ws, *args):
    r = run(ws, "--json", *args)
    if r.returncode != 0:
        raise AssertionError(f"mloop {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}")
    return json.loads(r.stdout)


# A quicker version of examples/adult/xgboost.yaml: fewer, larger steps.
ADULT_CONFIG = """
experiment: adult
run_name: {name}
data: {{train: adult@1, validation: adult_test@1}}
label: {{column: income, strip_suffix: ".", positive: ">50K"}}
task: binary
features_file: {features}
estimator:
  params: {{max_depth: 6, eta: 0.3, tree_method: hist, nthread: 2}}
  rounds: 60
seed: 42
"""


class Train(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mloop_e2e_train_")
        cls.ws = os.path.join(cls.dir, "ws")
        subprocess.run([MLOOP, "init", cls.ws], check=True, capture_output=True)
        for path, name in [("adult/adult.data", "adult"), ("adult/adult.test", "adult_test")]:
            r = run(cls.ws, "ingest", os.path.join(DATASETS, path), "--dataset", name,
                    "--contract", CONTRACT)
            assert r.returncode == 0, r.stderr
        r = run(cls.ws, "ingest", os.path.join(DATASETS, "bike_sharing", "hour.csv"),
                "--dataset", "bike")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def config(self, text, name="c.yaml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def adult(self, name):
        return self.config(ADULT_CONFIG.format(
            name=name, features=os.path.join(EXAMPLES, "adult", "features.yaml")), name + ".yaml")

    def test_adult_xgboost_reaches_auc_092_and_is_tracked(self):
        out = run_json(self.ws, "train", "--config", self.adult("auc"))
        self.assertGreaterEqual(out["metrics"]["valid-auc"], 0.92, out)
        self.assertEqual(out["train_rows"], 32561)
        self.assertEqual(out["validation_rows"], 16281)
        runs = run_json(self.ws, "runs", "list", "--experiment", "adult",
                        "--filter", "attributes.run_name = 'auc'")["runs"]
        self.assertEqual(len(runs), 1)
        run_ = runs[0]
        self.assertEqual(run_["status"], "FINISHED")
        self.assertEqual(run_["params"]["max_depth"], "6")
        self.assertEqual(run_["params"]["data.train"], "adult@1")
        self.assertAlmostEqual(run_["metrics"]["final.valid-auc"], out["metrics"]["valid-auc"])
        self.assertEqual({(i["dataset"], i["context"]) for i in run_["inputs"]},
                         {("adult", "training"), ("adult_test", "validation")})
        paths = {a["path"] for a in run_["artifacts"]}
        self.assertEqual(paths, {"model/model.ubj", "model/bundle.json",
                                 "feature_importance.json"})
        shown = run_json(self.ws, "runs", "show", out["run_id"][:8])
        self.assertEqual(len(shown["metric_history"]["valid-auc"]), 60)
        # The MLflow filter and order find it.
        best = run_json(self.ws, "runs", "list", "--filter", "metrics.`final.valid-auc` > 0.9",
                        "--order-by", "metrics.`final.valid-auc` DESC", "--max", "1")["runs"]
        self.assertEqual(len(best), 1)

    def test_the_same_config_data_and_seed_give_the_same_model_bytes(self):
        a = run_json(self.ws, "train", "--config", self.adult("repro-a"))
        b = run_json(self.ws, "train", "--config", self.adult("repro-b"))
        self.assertEqual(a["model"], b["model"])
        self.assertNotEqual(a["run_id"], b["run_id"])

    def test_python_xgboost_loads_the_bundles_booster(self):
        out = run_json(self.ws, "train", "--config", self.adult("python"))
        digest = out["model"]
        model = os.path.join(self.ws, ".mloop", "artifacts", "sha256", digest[:2], digest[2:])
        with open(os.path.join(self.ws, ".mloop", "artifacts", "sha256",
                               out["bundle"][:2], out["bundle"][2:])) as f:
            bundle = json.load(f)
        self.assertEqual(bundle["format"], "mloop-model-bundle")
        self.assertEqual(bundle["estimator"]["artifact"], digest)
        script = ("import sys, xgboost as xgb\n"
                  "b = xgb.Booster(model_file=sys.argv[1])\n"
                  "print(b.num_features(), b.num_boosted_rounds())\n")
        r = subprocess.run(["/usr/bin/python3", "-c", script, model], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        features, rounds = map(int, r.stdout.split())
        self.assertEqual(features, len(bundle["feature_names"]))
        self.assertEqual(rounds, out["rounds"])

    def test_predict_matches_the_runs_validation_auc_by_scikit_learn(self):
        out = run_json(self.ws, "train", "--config", self.adult("predict"))
        pred = os.path.join(self.dir, "pred.csv")
        p = run_json(self.ws, "predict", "--model", out["run_id"][:10], "--input", "adult_test@1",
                     "--output", pred)
        self.assertEqual(p["rows"], 16281)
        script = (
            "import sys, csv\n"
            "from sklearn.metrics import roc_auc_score\n"
            "rows = list(csv.DictReader(open(sys.argv[1])))\n"
            "labels = {}\n"
            "for i, line in enumerate(open(sys.argv[2]), 1):\n"
            "    f = [x.strip() for x in line.split(',')]\n"
            "    if len(f) == 15: labels[i] = 1 if f[14].rstrip('.') == '>50K' else 0\n"
            "y = [labels[int(r['line'])] for r in rows]\n"
            "s = [float(r['probability']) for r in rows]\n"
            "agree = sum((float(r['probability']) >= 0.5) == (r['label'] == '>50K') for r in rows)\n"
            "print(roc_auc_score(y, s), agree, len(rows))\n")
        r = subprocess.run(["/usr/bin/python3", "-c", script, pred,
                            os.path.join(DATASETS, "adult", "adult.test")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        auc, agree, n = r.stdout.split()
        self.assertAlmostEqual(float(auc), out["metrics"]["valid-auc"], places=5)
        self.assertEqual(int(agree), int(n))
        # The compiled evaluator (the default engine) and XGBoost's own give the same file.
        pred_xgb = os.path.join(self.dir, "pred_xgb.csv")
        run_json(self.ws, "predict", "--model", out["run_id"], "--input", "adult_test@1",
                 "--output", pred_xgb, "--engine", "xgboost")
        with open(pred) as a, open(pred_xgb) as b:
            self.assertEqual(a.read(), b.read())

    def test_python_xgboost_predicts_the_same_values_on_the_transformed_matrix(self):
        out = run_json(self.ws, "train", "--config", self.adult("matrix"))
        pred = os.path.join(self.dir, "pred_features.csv")
        run_json(self.ws, "predict", "--model", out["run_id"], "--input", "adult_test@1",
                 "--output", pred, "--features")
        digest = out["model"]
        model = os.path.join(self.ws, ".mloop", "artifacts", "sha256", digest[:2], digest[2:])
        script = (
            "import sys, csv, numpy as np, xgboost as xgb\n"
            "rows = list(csv.DictReader(open(sys.argv[1])))\n"
            "names = [k for k in rows[0] if k.startswith('feature.')]\n"
            "x = np.array([[float(r[k]) if r[k] != '' else np.nan for k in names]"
            " for r in rows], dtype=np.float32)\n"
            "p = xgb.Booster(model_file=sys.argv[2]).predict(xgb.DMatrix(x, missing=np.nan))\n"
            "ours = np.array([float(r['probability']) for r in rows])\n"
            "print(len(names), float(np.max(np.abs(p - ours))))\n")
        r = subprocess.run(["/usr/bin/python3", "-c", script, pred, model], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        features, diff = r.stdout.split()
        self.assertEqual(int(features), out["features"])
        self.assertLess(float(diff), 1e-6)

    def test_a_run_records_the_git_commit_of_the_workspace(self):
        ws = os.path.join(self.dir, "gitws")
        subprocess.run([MLOOP, "init", ws], check=True, capture_output=True)
        for args in (["init", "-q"], ["add", "mloop.yaml"],
                     ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
                      "-m", "workspace"]):
            subprocess.run(["git", "-C", ws, *args], check=True, capture_output=True)
        head = subprocess.run(["git", "-C", ws, "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        r = run(ws, "ingest", os.path.join(DATASETS, "bike_sharing", "hour.csv"), "--dataset",
                "bike")
        self.assertEqual(r.returncode, 0, r.stderr)
        config = self.config("data: {train: bike@1, split: {method: random}}\nlabel: cnt\n"
                             "task: regression\nfeatures_file: " +
                             os.path.join(EXAMPLES, "bike", "features.yaml") +
                             "\nestimator: {rounds: 5}\n", "git.yaml")
        out = run_json(ws, "train", "--config", config)
        shown = run_json(ws, "runs", "show", out["run_id"])
        self.assertEqual(shown["tags"]["mlflow.source.git.commit"], head)
        # Outside a repository there is no such tag.
        other = run_json(self.ws, "train", "--config", config.replace("git.yaml", "git.yaml"))
        self.assertNotIn("mlflow.source.git.commit",
                         run_json(self.ws, "runs", "show", other["run_id"])["tags"])

    def test_bike_regression_with_a_time_split_reports_rmse(self):
        out = run_json(self.ws, "train", "--config", os.path.join(EXAMPLES, "bike", "xgboost.yaml"))
        self.assertIn("valid-rmse", out["metrics"])
        self.assertLess(out["metrics"]["valid-rmse"], 150)
        self.assertEqual(out["train_rows"] + out["validation_rows"], 17379)
        self.assertEqual(out["validation_rows"], round(0.2 * 17379))

    def test_bad_configs_name_the_key(self):
        features = os.path.join(EXAMPLES, "adult", "features.yaml")
        base = ADULT_CONFIG.format(name="bad", features=features)
        cases = [
            (base.replace("column: income", "column: incme"), ["label.column", "'incme'"]),
            (base.replace("task: binary", "task: multiclass").replace(
                ', positive: ">50K"', ""), ["multiclass", "three or more"]),
            (base.replace("max_depth: 6", "max_dept: 6"), ["estimator.params.max_dept"]),
            (base.replace("train: adult@1", "train: adult@9"), ["data.train", "adult@9"]),
            (base.replace("train: adult@1", "train: nope@1"), ["data.train", "nope"]),
        ]
        for text, facts in cases:
            r = run(self.ws, "--json", "train", "--config", self.config(text, "bad.yaml"))
            self.assertEqual(r.returncode, 1, text)
            err = json.loads(r.stdout)["error"]["message"]
            for fact in facts:
                self.assertIn(fact, err, text)
        # No failed run was left behind by a config that could be checked up front.
        failed = run_json(self.ws, "runs", "list", "--filter", "attributes.status = 'FAILED'")
        self.assertEqual(failed["runs"], [])


if __name__ == "__main__":
    unittest.main()
