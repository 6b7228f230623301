"""End-to-end tests of `mloop train` and `mloop runs`: the real binary on the Adult and Bike
Sharing data, in one workspace made once (ingesting and training take seconds).

Run by ctest with MLOOP (the binary) and MLOOP_DATASETS_DIR (../shared/datasets) set.
"""
import json
import os
import pty
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

    def assert_python_xgboost_predicts_the_same(self, out, data, column):
        pred = os.path.join(self.dir, "pred_features.csv")
        run_json(self.ws, "predict", "--model", out["run_id"], "--input", data,
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
            "ours = np.array([float(r[sys.argv[3]]) for r in rows])\n"
            "print(len(names), float(np.max(np.abs(p - ours) / np.maximum(1, np.abs(p)))))\n")
        r = subprocess.run(["/usr/bin/python3", "-c", script, pred, model, column],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        features, diff = r.stdout.split()
        self.assertEqual(int(features), out["features"])
        self.assertLess(float(diff), 1e-6)

    def test_python_xgboost_predicts_the_same_values_on_the_transformed_matrix(self):
        out = run_json(self.ws, "train", "--config", self.adult("matrix"))
        self.assert_python_xgboost_predicts_the_same(out, "adult_test@1", "probability")
        bike = run_json(self.ws, "train", "--config",
                        os.path.join(EXAMPLES, "bike", "xgboost.yaml"))
        self.assert_python_xgboost_predicts_the_same(bike, "bike@1", "prediction")

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
        # A search metric the config does not report, found before any run starts.
        search = base + "search: {metric: valid-rmse, space: {max_depth: [3, 4]}}\n"
        r = run(self.ws, "--json", "train", "--config", self.config(search, "bad.yaml"))
        self.assertEqual(r.returncode, 1)
        err = json.loads(r.stdout)["error"]["message"]
        self.assertIn("search.metric: 'valid-rmse'", err)
        self.assertIn("valid-auc", err)
        # No failed run was left behind by a config that could be checked up front.
        failed = run_json(self.ws, "runs", "list", "--experiment", "adult", "--filter",
                          "attributes.status = 'FAILED'")
        self.assertEqual(failed["runs"], [])

    def artifact(self, digest):
        return os.path.join(self.ws, ".mloop", "artifacts", "sha256", digest[:2], digest[2:])

    def test_logistic_baseline_equals_scikit_learns_on_the_same_matrix(self):
        out = run_json(self.ws, "train", "--config",
                       os.path.join(EXAMPLES, "adult", "logistic.yaml"))
        self.assertEqual(out["estimator"], "logistic")
        self.assertGreater(out["metrics"]["valid-auc"], 0.89, out)
        self.assertLess(abs(out["metrics"]["cv-auc"] - out["metrics"]["valid-auc"]), 0.02, out)
        with open(self.artifact(out["bundle"])) as f:
            bundle = json.load(f)
        self.assertEqual(bundle["estimator"]["type"], "logistic")
        self.assertTrue(bundle["estimator"]["converged"])
        # The matrices the model saw, and its predictions, from `predict --features`.
        train_csv = os.path.join(self.dir, "logistic_train.csv")
        test_csv = os.path.join(self.dir, "logistic_test.csv")
        for data, path in (("adult@1", train_csv), ("adult_test@1", test_csv)):
            run_json(self.ws, "predict", "--model", out["run_id"], "--input", data, "--output",
                     path, "--features")
        script = (
            "import sys, csv, numpy as np\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.metrics import roc_auc_score\n"
            "def load(path, source):\n"
            "    rows = list(csv.DictReader(open(path)))\n"
            "    names = [k for k in rows[0] if k.startswith('feature.')]\n"
            "    x = np.array([[float(r[k]) for k in names] for r in rows])\n"
            "    lines = {}\n"
            "    for i, line in enumerate(open(source), 1):\n"
            "        f = [v.strip() for v in line.split(',')]\n"
            "        if len(f) == 15: lines[i] = 1 if f[14].rstrip('.') == '>50K' else 0\n"
            "    y = np.array([lines[int(r['line'])] for r in rows])\n"
            "    return x, y, np.array([float(r['probability']) for r in rows])\n"
            "xt, yt, _ = load(sys.argv[1], sys.argv[3])\n"
            "xv, yv, ours = load(sys.argv[2], sys.argv[4])\n"
            # lbfgs stops on its relative-decrease rule short of the optimum (0.002 away in
            # probability here); scikit-learn's Newton solver converges to it.
            "m = LogisticRegression(C=1.0, tol=1e-12, max_iter=1000,\n"
            "                       solver='newton-cholesky').fit(xt, yt)\n"
            "p = m.predict_proba(xv)[:, 1]\n"
            "print(float(np.max(np.abs(p - ours))), roc_auc_score(yv, ours))\n")
        r = subprocess.run(["/usr/bin/python3", "-c", script, train_csv, test_csv,
                            os.path.join(DATASETS, "adult", "adult.data"),
                            os.path.join(DATASETS, "adult", "adult.test")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        diff, auc = map(float, r.stdout.split())
        self.assertLess(diff, 1e-6)
        self.assertAlmostEqual(auc, out["metrics"]["valid-auc"], places=6)
        # The xgboost engine has no linear evaluator, and says so.
        r = run(self.ws, "predict", "--model", out["run_id"], "--input", "adult_test@1",
                "--output", os.path.join(self.dir, "x.csv"), "--engine", "xgboost")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not an XGBoost model", r.stderr.decode())

    def test_bike_ridge_baseline_reports_rmse(self):
        config = self.config(
            "experiment: bike\nrun_name: ridge\n"
            "data: {train: bike@1, split: {method: time, time_column: dteday}}\n"
            "label: cnt\ntask: regression\nfeatures_file: " +
            os.path.join(EXAMPLES, "bike", "features.yaml") +
            "\nestimator: {type: ridge, params: {alpha: 1.0}}\n", "ridge.yaml")
        out = run_json(self.ws, "train", "--config", config)
        self.assertEqual(out["estimator"], "ridge")
        self.assertGreater(out["metrics"]["valid-rmse"], 0)
        # A linear model is a baseline: the trees do better on the same split.
        trees = run_json(self.ws, "train", "--config",
                         os.path.join(EXAMPLES, "bike", "xgboost.yaml"))
        self.assertLess(trees["metrics"]["valid-rmse"], out["metrics"]["valid-rmse"])

    def fast_adult(self, name, extra):
        return self.config(ADULT_CONFIG.format(
            name=name, features=os.path.join(EXAMPLES, "adult", "features.yaml")).replace(
                "rounds: 60", "rounds: 15") + extra, name + ".yaml")

    def test_cross_validation_reports_the_mean_and_spread_over_folds(self):
        config = self.fast_adult("cv", "cv: {folds: 3}\n")
        out = run_json(self.ws, "train", "--config", config)
        m = out["metrics"]
        for key in ("cv-auc", "cv-auc-std", "cv-logloss", "cv-logloss-std"):
            self.assertIn(key, m)
        self.assertGreater(m["cv-auc"], 0.85)
        self.assertLess(m["cv-auc"], 1)
        self.assertGreater(m["cv-auc-std"], 0)
        self.assertLess(m["cv-auc-std"], 0.02)
        shown = run_json(self.ws, "runs", "show", out["run_id"])
        self.assertEqual(shown["params"]["cv.folds"], "3")
        self.assertAlmostEqual(shown["metrics"]["cv-auc"], m["cv-auc"], places=12)
        # Seeded folds: the same config gives the same figures.
        again = run_json(self.ws, "train", "--config", config)
        self.assertEqual(again["metrics"]["cv-auc"], m["cv-auc"])

    def test_grid_search_makes_a_child_run_per_trial_and_keeps_the_best(self):
        config = self.fast_adult(
            "grid", "search: {metric: valid-auc, space: {max_depth: [2, 5], eta: [0.2, 0.5]}}\n")
        out = run_json(self.ws, "train", "--config", config)
        trials = out["trials"]
        self.assertEqual(len(trials), 4)
        self.assertEqual([t["params"] for t in trials],
                         [{"eta": "0.2", "max_depth": "2"}, {"eta": "0.2", "max_depth": "5"},
                          {"eta": "0.5", "max_depth": "2"}, {"eta": "0.5", "max_depth": "5"}])
        self.assertTrue(all(t["status"] == "FINISHED" for t in trials))
        best = max(trials, key=lambda t: t["score"])
        self.assertEqual(out["best_trial"], best["run_id"])
        self.assertEqual(out["metrics"]["valid-auc"], best["score"])
        children = run_json(self.ws, "runs", "list", "--filter",
                            f"tags.mlflow.parentRunId = '{out['run_id']}'")["runs"]
        self.assertEqual(sorted(c["run_id"] for c in children),
                         sorted(t["run_id"] for t in trials))
        for t in trials:
            child = run_json(self.ws, "runs", "show", t["run_id"])
            self.assertEqual(child["params"]["max_depth"], t["params"]["max_depth"])
            self.assertEqual(child["parent_run_id"], out["run_id"])
            self.assertEqual(child["metrics"]["final.valid-auc"], t["score"])
        parent = run_json(self.ws, "runs", "show", out["run_id"])
        self.assertEqual(parent["tags"]["mloop.best_trial"], best["run_id"])
        self.assertEqual(parent["params"]["max_depth"], best["params"]["max_depth"])
        self.assertEqual(parent["metrics"]["search.best_score"], best["score"])
        best_run = run_json(self.ws, "runs", "show", best["run_id"])
        digests = lambda r: {a["path"]: a["digest"] for a in r["artifacts"]}
        self.assertEqual(digests(parent), digests(best_run))
        # The parent's model predicts.
        run_json(self.ws, "predict", "--model", out["run_id"], "--input", "adult_test@1",
                 "--output", os.path.join(self.dir, "grid.csv"))

    def on_a_terminal(self, *args):
        """Runs mloop with stderr on a pseudo-terminal; returns what was drawn there."""
        master, slave = pty.openpty()
        env = dict(os.environ, MLOOP_WORKSPACE=self.ws)
        env.pop("MLOOP_NO_PROGRESS", None)
        p = subprocess.Popen([MLOOP, *args], stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal.
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        self.assertEqual(p.wait(timeout=600), 0)
        return b"".join(chunks).decode(errors="replace")

    def test_a_terminal_shows_progress_by_rounds_folds_and_trials(self):
        drawn = self.on_a_terminal("train", "--config", self.fast_adult("bar", "cv: 2\n"))
        self.assertIn("/2 folds", drawn)
        self.assertIn("/15 rounds", drawn)
        drawn = self.on_a_terminal("train", "--config", self.fast_adult(
            "bar-search", "search: {metric: valid-auc, space: {max_depth: [2, 3]}}\n"))
        self.assertIn("/2 trials", drawn)
        # Not with --json: a script reading stdout gets no terminal codes on stderr either.
        grid = run_json(self.ws, "runs", "list", "--filter", "attributes.run_name = 'bar'")
        drawn = self.on_a_terminal("predict", "--model", grid["runs"][0]["run_id"], "--input",
                                   "adult_test@1", "--output", os.path.join(self.dir, "bar.csv"))
        self.assertIn("/16281 rows", drawn)
        self.assertNotIn("rounds", self.on_a_terminal(
            "--json", "train", "--config", self.fast_adult("bar-json", "")))

    def test_random_search_is_seeded_and_a_failing_trial_does_not_stop_it(self):
        space = ("search: {method: random, trials: 3, metric: valid-logloss, "
                 "direction: minimize, space: {eta: {min: 0.05, max: 0.5, log: true}, "
                 "max_depth: {min: 2, max: 6, integer: true}}}\n")
        a = run_json(self.ws, "train", "--config", self.fast_adult("random", space))
        b = run_json(self.ws, "train", "--config", self.fast_adult("random", space))
        self.assertEqual([t["params"] for t in a["trials"]], [t["params"] for t in b["trials"]])
        for t in a["trials"]:
            self.assertTrue(0.05 <= float(t["params"]["eta"]) <= 0.5, t)
            self.assertIn(t["params"]["max_depth"], {"2", "3", "4", "5", "6"})
        self.assertEqual(a["metrics"]["valid-logloss"], min(t["score"] for t in a["trials"]))
        # max_depth -1 is refused by XGBoost: that trial fails, the other one wins.
        grid = "search: {metric: valid-auc, space: {max_depth: [-1, 3]}}\n"
        text = ADULT_CONFIG.format(name="failing", features=os.path.join(
            EXAMPLES, "adult", "features.yaml")).replace("experiment: adult",
                                                         "experiment: failing")
        out = run_json(self.ws, "train", "--config", self.config(
            text.replace("rounds: 60", "rounds: 5") + grid, "failing.yaml"))
        self.assertEqual([t["status"] for t in out["trials"]], ["FAILED", "FINISHED"])
        self.assertIn("max_depth", out["trials"][0]["error"])
        failed = run_json(self.ws, "runs", "show", out["trials"][0]["run_id"])
        self.assertEqual(failed["status"], "FAILED")
        self.assertIn("max_depth", failed["tags"]["mloop.error"])
        self.assertEqual(out["best_trial"], out["trials"][1]["run_id"])


if __name__ == "__main__":
    unittest.main()
