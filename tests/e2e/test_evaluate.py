"""End-to-end tests of `mloop evaluate`, `mloop explain` and the promotion flow, with the real
binary on UCI Adult: a logistic champion, an XGBoost candidate that the gates promote, and a
deliberately worse candidate (5 shallow trees) that they reject. Metrics are checked against
scikit-learn, the paired tests against statsmodels and SciPy, and the SHAP values against
Python's xgboost, on the same predictions.

Run by ctest with MLOOP (the binary) and MLOOP_DATASETS_DIR (../shared/datasets) set.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

MLOOP = os.environ["MLOOP"]
DATASETS = os.environ["MLOOP_DATASETS_DIR"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(ROOT, "src", "data", "testdata", "adult_contract.yaml")
EXAMPLES = os.path.join(ROOT, "examples")
GATES = os.path.join(EXAMPLES, "adult", "gates.yaml")
PYTHON = "/usr/bin/python3"

CONFIG = """
experiment: adult
run_name: {name}
data: {{train: adult@1, validation: adult_test@1}}
label: {{column: income, strip_suffix: ".", positive: ">50K"}}
task: binary
features_file: {features}
estimator:
  params: {{max_depth: {depth}, eta: 0.3, tree_method: hist, nthread: 2}}
  rounds: {rounds}
seed: 42
"""


def run(ws, *args, timeout=900):
    env = dict(os.environ, MLOOP_NO_PROGRESS="1", MLOOP_WORKSPACE=ws, MLOOP_USER="tester")
    return subprocess.run([MLOOP, *args], capture_output=True, timeout=timeout, env=env)


def run_json(ws, *args, code=0):
    r = run(ws, "--json", *args)
    if r.returncode != code:
        raise AssertionError(f"mloop {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}")
    return json.loads(r.stdout)


def python(script, *args):
    r = subprocess.run([PYTHON, "-c", script, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


class Evaluate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mloop_e2e_evaluate_")
        cls.ws = ws = os.path.join(cls.dir, "ws")
        gates = GATES
        if os.environ.get("MLOOP_SANITIZED") == "1":
            # A sanitizer-instrumented binary on a shared 2-core machine is no measure of
            # serving latency: the example's 5 ms gate is raised to a bound such a build meets.
            # The latency is still measured (and checked to be there) below.
            with open(GATES) as f:
                text = f.read()
            assert "latency: {p95_ms: 5}" in text, "examples/adult/gates.yaml changed its latency gate"
            gates = os.path.join(cls.dir, "gates.yaml")
            with open(gates, "w") as f:
                f.write(text.replace("latency: {p95_ms: 5}", "latency: {p95_ms: 10000}"))
        subprocess.run([MLOOP, "init", ws], check=True, capture_output=True)
        for path, name in [("adult/adult.data", "adult"), ("adult/adult.test", "adult_test")]:
            r = run(ws, "ingest", os.path.join(DATASETS, path), "--dataset", name, "--contract",
                    CONTRACT)
            assert r.returncode == 0, r.stderr
        features = os.path.join(EXAMPLES, "adult", "features.yaml")
        runs = {}
        for name, depth, rounds in [("trees", 6, 60), ("weak", 1, 5)]:
            path = os.path.join(cls.dir, name + ".yaml")
            with open(path, "w") as f:
                f.write(CONFIG.format(name=name, features=features, depth=depth, rounds=rounds))
            runs[name] = run_json(ws, "train", "--config", path)["run_id"]
        runs["logistic"] = run_json(ws, "train", "--config",
                                    os.path.join(EXAMPLES, "adult", "logistic.yaml"))["run_id"]
        cls.runs = runs
        # The champion: the logistic baseline, through its own gates (nothing to beat yet).
        run_json(ws, "models", "register", runs["logistic"], "--name", "income")
        cls.first = run_json(ws, "evaluate", "--model", "income@1", "--data", "adult_test@1",
                             "--gates", gates, "--bootstrap", "0")
        run_json(ws, "models", "promote", "income@1")
        run_json(ws, "models", "register", runs["trees"], "--name", "income")
        cls.html = os.path.join(cls.dir, "card.html")
        cls.better = run_json(ws, "evaluate", "--model", "income@2", "--data", "adult_test@1",
                              "--gates", gates, "--bootstrap", "200", "--slice", "sex",
                              "--slice", "age:4", "--html", cls.html)
        run_json(ws, "models", "register", runs["weak"], "--name", "income")
        cls.worse_run = run(ws, "--json", "evaluate", "--model", "income@3", "--data",
                            "adult_test@1", "--gates", gates, "--bootstrap", "0")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def predictions(self, model, name):
        path = os.path.join(self.dir, name + ".csv")
        run_json(self.ws, "predict", "--model", model, "--input", "adult_test@1", "--output",
                 path)
        return path

    def test_the_first_model_passes_with_nothing_to_beat(self):
        self.assertEqual(self.first["gates"]["decision"], "PROMOTE")
        skipped = [c for c in self.first["gates"]["conditions"] if not c["evaluated"]]
        self.assertEqual([c["condition"] for c in skipped],
                         ["roc_auc better than the champion's (p < 0.05)"])
        self.assertIsNone(self.first["champion"])

    def test_a_better_candidate_is_promoted_with_significance_and_fairness(self):
        rep = self.better
        self.assertEqual(rep["gates"]["decision"], "PROMOTE", rep["gates"]["failed"])
        self.assertEqual(rep["champion"]["ref"], "income@1")
        d = rep["datasets"][0]
        self.assertLess(d["comparison"]["tests"]["roc_auc"]["p_value"], 0.05)
        self.assertGreater(d["comparison"]["deltas"]["roc_auc"]["low"], 0)
        self.assertEqual(set(d["fairness"]), {"sex", "race"})
        self.assertEqual({g["group"] for g in d["fairness"]["sex"]["groups"]}, {"Male", "Female"})
        self.assertEqual(len(d["slices"]["age"]), 4)
        self.assertGreater(rep["latency"]["p95_ms"], 0)
        self.assertEqual(rep["importance"]["method"], "tree_shap")
        # The decision is recorded on the version, and the card is a self-contained page.
        shown = run_json(self.ws, "models", "show", "income@2")
        self.assertEqual(shown["tags"]["ready_for_deployment"], "true")
        with open(self.html) as f:
            card = f.read()
        for fact in ("Model card: income@2", "PROMOTE", "Fairness by sex", "Top features",
                     "Gates", "Limitations"):
            self.assertIn(fact, card)
        for absent in ("<script", "http://", "https://"):
            self.assertNotIn(absent, card)
        # The evaluation is a run of its own, with the report and the card.
        ev = run_json(self.ws, "runs", "show", rep["run_id"])
        self.assertEqual(ev["tags"]["mloop.decision"], "PROMOTE")
        self.assertEqual({a["path"] for a in ev["artifacts"]},
                         {"evaluation/report.json", "evaluation/model_card.html"})

    def test_a_worse_candidate_is_rejected_with_its_reasons(self):
        r = self.worse_run
        self.assertEqual(r.returncode, 3, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["gates"]["decision"], "REJECT")
        failed = {c["condition"]: c for c in rep["gates"]["failed"]}
        self.assertIn("roc_auc better than the champion's (p < 0.05)", failed)
        self.assertIn("roc_auc >= 0.85, +0.002 vs champion", failed)
        self.assertIn("improves on the champion", failed["roc_auc >= 0.85, +0.002 vs champion"]
                      ["message"])
        # Promotion refuses it, and says why; --force needs a reason.
        p = run(self.ws, "models", "promote", "income@3")
        self.assertEqual(p.returncode, 1)
        self.assertIn("REJECT", p.stderr.decode())

    def test_metrics_equal_scikit_learns_and_tests_equal_scipys(self):
        cand = self.predictions("income@2", "cand")
        champ = self.predictions("income@1", "champ")
        script = """
import csv, json, sys
import numpy as np
from scipy.stats import ttest_rel
from sklearn import metrics as m
from statsmodels.stats.contingency_tables import mcnemar
labels = {}
for i, line in enumerate(open(sys.argv[3]), 1):
    f = [x.strip() for x in line.split(',')]
    if len(f) == 15: labels[i] = 1 if f[14].rstrip('.') == '>50K' else 0
def load(path):
    rows = list(csv.DictReader(open(path)))
    return (np.array([labels[int(r['line'])] for r in rows]),
            np.array([float(r['probability']) for r in rows]))
y, a = load(sys.argv[1])
_, b = load(sys.argv[2])
pa = (a >= 0.5).astype(int)
out = {"accuracy": m.accuracy_score(y, pa), "balanced_accuracy": m.balanced_accuracy_score(y, pa),
       "precision": m.precision_score(y, pa), "recall": m.recall_score(y, pa),
       "f1": m.f1_score(y, pa), "roc_auc": m.roc_auc_score(y, a),
       "average_precision": m.average_precision_score(y, a),
       "log_loss": m.log_loss(y, a, eps=1e-15), "brier": m.brier_score_loss(y, a)}
ca, cb = (pa == y), ((b >= 0.5).astype(int) == y)
table = [[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]]
r = mcnemar(table, exact=False, correction=True)
out["mcnemar"] = [float(r.statistic), float(r.pvalue)]
def ll(p):
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return -(y * np.log(q) + (1 - y) * np.log1p(-q))
t = ttest_rel(ll(a), ll(b))
out["ttest"] = [float(t.statistic), float(t.pvalue)]
out["champion_auc"] = m.roc_auc_score(y, b)
print(json.dumps(out))
"""
        ref = python(script, cand, champ, os.path.join(DATASETS, "adult", "adult.test"))
        d = self.better["datasets"][0]
        for name in ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
                     "average_precision", "log_loss", "brier"):
            self.assertAlmostEqual(d["metrics"][name], ref[name], delta=1e-9, msg=name)
        self.assertAlmostEqual(d["champion_metrics"]["roc_auc"], ref["champion_auc"], delta=1e-9)
        tests = d["comparison"]["tests"]
        self.assertEqual(tests["accuracy"]["method"], "mcnemar_chi2")
        self.assertAlmostEqual(tests["accuracy"]["statistic"], ref["mcnemar"][0],
                               delta=1e-9 * ref["mcnemar"][0])
        self.assertAlmostEqual(tests["accuracy"]["p_value"], ref["mcnemar"][1],
                               delta=1e-9 * ref["mcnemar"][1])
        self.assertAlmostEqual(tests["log_loss"]["statistic"], ref["ttest"][0],
                               delta=1e-9 * abs(ref["ttest"][0]))
        self.assertAlmostEqual(tests["log_loss"]["p_value"], ref["ttest"][1],
                               delta=1e-9 * ref["ttest"][1] + 1e-300)

    def test_explain_gives_xgboosts_contributions_summing_to_the_margin(self):
        shap_csv = os.path.join(self.dir, "shap.csv")
        out = run_json(self.ws, "explain", "--model", "income@2", "--input", "adult_test@1",
                       "--output", shap_csv)
        self.assertEqual(out["rows"], 16281)
        self.assertLess(out["max_sum_error"], 1e-4)
        features = os.path.join(self.dir, "features.csv")
        run_json(self.ws, "predict", "--model", "income@2", "--input", "adult_test@1",
                 "--output", features, "--features")
        shown = run_json(self.ws, "runs", "show", self.runs["trees"])
        digest = [a["digest"] for a in shown["artifacts"] if a["path"] == "model/model.ubj"][0]
        model = os.path.join(self.ws, ".mloop", "artifacts", "sha256", digest[:2], digest[2:])
        script = """
import csv, json, sys
import numpy as np, xgboost as xgb
rows = list(csv.DictReader(open(sys.argv[1])))
names = [k for k in rows[0] if k.startswith('feature.')]
x = np.array([[float(r[k]) if r[k] != '' else np.nan for k in names] for r in rows],
             dtype=np.float32)
c = xgb.Booster(model_file=sys.argv[3]).predict(xgb.DMatrix(x, missing=np.nan),
                                                pred_contribs=True)
ours_rows = list(csv.DictReader(open(sys.argv[2])))
cols = ['shap.' + n[len('feature.'):] for n in names] + ['bias']
ours = np.array([[float(r[k]) for k in cols] for r in ours_rows])
print(json.dumps({"max_diff": float(np.max(np.abs(ours - c))), "features": len(names)}))
"""
        ref = python(script, features, shap_csv, model)
        self.assertLess(ref["max_diff"], 1e-4)

    def test_promote_rollback_and_the_audit_chain(self):
        ws = os.path.join(self.dir, "ws")
        run_json(self.ws, "models", "promote", "income@2")
        self.assertEqual(run_json(ws, "models", "show", "income")["aliases"]["champion"], 2)
        run_json(ws, "models", "rollback", "income", "--reason", "check the old one")
        self.assertEqual(run_json(ws, "models", "show", "income")["aliases"]["champion"], 1)
        log = run_json(ws, "audit", "log", "income")["entries"]
        actions = [e["action"] for e in log]
        for a in ("register", "gate_decision", "promote", "rollback"):
            self.assertIn(a, actions)
        decisions = [e for e in log if e["action"] == "gate_decision"]
        self.assertIn("gate report " + self.better["report_digest"], [e["reason"] for e in decisions])
        self.assertTrue(run_json(ws, "audit", "verify")["ok"])
        copy = os.path.join(self.dir, "tampered")
        shutil.copytree(ws, copy)
        db = sqlite3.connect(os.path.join(copy, ".mloop", "mloop.db"))
        with db:
            db.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = ?",
                       (decisions[0]["seq"],))
        db.close()
        r = run(copy, "audit", "verify")
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"entry {decisions[0]['seq']}", r.stdout.decode())

    def test_bad_requests_name_what_is_wrong(self):
        cases = [
            (["--model", "income@9", "--data", "adult_test@1"], ["income@9"]),
            (["--model", "income@2", "--data", "nope@1"], ["nope"]),
            (["--model", "income@2", "--data", "adult_test@1", "--slice", "colour"],
             ["--slice colour", "colour"]),
            (["--model", "income@2", "--data", "adult_test@1", "--gates", GATES + ".missing"],
             ["gates.yaml.missing"]),
            (["--model", "income@2", "--data", "adult_test@1", "--threshold", "1.5"],
             ["--threshold"]),
        ]
        for args, facts in cases:
            r = run(self.ws, "--json", "evaluate", *args)
            self.assertEqual(r.returncode, 1, args)
            msg = json.loads(r.stdout)["error"]["message"]
            for fact in facts:
                self.assertIn(fact, msg, args)
        bad = os.path.join(self.dir, "bad_gates.yaml")
        with open(bad, "w") as f:
            f.write("gates:\n  - fairness: {column: sex, metric: demographic_parity_ratio, mn: 1}\n")
        r = run(self.ws, "--json", "evaluate", "--model", "income@2", "--data", "adult_test@1",
                "--gates", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("gates[0].fairness.mn", json.loads(r.stdout)["error"]["message"])


if __name__ == "__main__":
    unittest.main()
