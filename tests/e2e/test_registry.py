"""End-to-end tests of the model registry: `mloop models`, `mloop audit` and `mloop predict
--model NAME@ALIAS`, with the real binary on Adult, in one workspace that is a git repository.

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
FEATURES = os.path.join(ROOT, "examples", "adult", "features.yaml")

# Quick models: the registry does not care how good they are.
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


def run(ws, *args, timeout=600):
    env = dict(os.environ, MLOOP_NO_PROGRESS="1", MLOOP_WORKSPACE=ws, MLOOP_USER="e2e")
    return subprocess.run([MLOOP, *args], capture_output=True, timeout=timeout, env=env)


def run_json(ws, *args):
    r = run(ws, "--json", *args)
    if r.returncode != 0:
        raise AssertionError(f"mloop {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}")
    return json.loads(r.stdout)


def git(ws, *args):
    r = subprocess.run(["git", "-C", ws, "-c", "user.name=e2e", "-c", "user.email=e2e@localhost",
                        *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {r.stdout}{r.stderr}")
    return r.stdout


class Registry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mloop_e2e_registry_")
        cls.ws = os.path.join(cls.dir, "ws")
        subprocess.run([MLOOP, "init", cls.ws], check=True, capture_output=True)
        for path, name in [("adult/adult.data", "adult"), ("adult/adult.test", "adult_test")]:
            r = run(cls.ws, "ingest", os.path.join(DATASETS, path), "--dataset", name,
                    "--contract", CONTRACT)
            assert r.returncode == 0, r.stderr
        cls.runs = []
        for name, depth, rounds in [("small", 2, 5), ("larger", 4, 20)]:
            config = os.path.join(cls.dir, name + ".yaml")
            with open(config, "w") as f:
                f.write(CONFIG.format(name=name, features=FEATURES, depth=depth, rounds=rounds))
            cls.runs.append(run_json(cls.ws, "train", "--config", config))
        subprocess.run(["git", "init", "-q", cls.ws], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def fails(self, code, *args):
        r = run(self.ws, *args)
        self.assertEqual(r.returncode, code, (args, r.stdout, r.stderr))
        return r.stderr.decode() + r.stdout.decode()

    def test_a_errors_name_what_is_wrong(self):
        msg = self.fails(1, "models", "show", "nothing")
        self.assertIn("'nothing'", msg)
        self.fails(1, "models", "register", "0000000000", "--name", "x")
        self.fails(1, "models", "register", self.runs[0]["run_id"], "--name", "bad/name")
        self.fails(2, "models", "register", self.runs[0]["run_id"])  # --name is required.
        self.fails(1, "models", "show", "x@0")
        self.fails(0, "audit", "verify")

    def test_b_lifecycle(self):
        ws = self.ws
        v1 = run_json(ws, "models", "register", self.runs[0]["run_id"][:8], "--name", "income",
                      "--description", "5 shallow trees")
        v2 = run_json(ws, "models", "register", self.runs[1]["run_id"], "--name", "income")
        self.assertEqual((v1["version"], v2["version"]), (1, 2))
        self.assertEqual(v1["run_id"], self.runs[0]["run_id"])
        self.assertEqual(v1["bundle_digest"], self.runs[0]["bundle"])
        self.assertEqual(v1["created_by"], "e2e")
        self.assertIn("train", v1["lineage"])
        self.assertTrue(v1["signature"])
        models = run_json(ws, "models", "list")["models"]
        self.assertEqual([m["name"] for m in models], ["income"])
        self.assertEqual(models[0]["latest_version"], 2)

        # Gate tags are the gates' to set; without a gate decision, promotion needs --force.
        msg = self.fails(1, "models", "tag", "income@2", "ready_for_deployment", "true")
        self.assertIn("gates", msg)
        self.fails(1, "models", "tag", "income@2", "gate.decision", "PROMOTE")
        run_json(ws, "models", "tag", "income@2", "owner", "risk-team")
        msg = self.fails(1, "models", "promote", "income@2")
        self.assertIn("no gate decision", msg)
        self.assertIn("--force", msg)
        msg = self.fails(1, "models", "promote", "income@2", "--force")
        self.assertIn("--reason", msg)

        p1 = run_json(ws, "models", "promote", "income@1", "--force", "--reason", "baseline")
        self.assertEqual((p1["from_version"], p1["to_version"]), (None, 1))
        self.assertEqual(p1["warnings"], [])
        self.assertEqual(len(p1["git_commit"]), 40)
        p2 = run_json(ws, "models", "promote", "income@2", "--force", "--reason", "deeper trees")
        self.assertEqual((p2["from_version"], p2["to_version"]), (1, 2))

        # The desired state and its commit.
        deploy = os.path.join(ws, "deploy", "models", "income.yaml")
        self.assertEqual(p2["deploy_file"], deploy)
        with open(deploy) as f:
            text = f.read()
        self.assertIn("model: income", text)
        self.assertIn(f"run_id: {self.runs[1]['run_id']}", text)
        self.assertIn(f"bundle_digest: {self.runs[1]['bundle']}", text)
        self.assertIn("champion: 100", text)
        log = git(ws, "log", "--format=%H %s")
        self.assertIn(f"{p2['git_commit']} models: promote income@2 to champion "
                      "(forced: deeper trees)", log)
        self.assertIn("models: promote income@1 to champion (forced: baseline)", log)
        self.assertEqual(git(ws, "show", "--name-only", "--format=", "HEAD").split(),
                         ["deploy/models/income.yaml"])

        shown = run_json(ws, "models", "show", "income")
        self.assertEqual(shown["aliases"], {"champion": 2})
        self.assertEqual(run_json(ws, "models", "show", "income@champion")["version"], 2)
        human = run(ws, "models", "show", "income")
        self.assertEqual(human.returncode, 0)
        self.assertIn(b"champion", human.stdout)

        # Predict through the alias: the same rows as through the run id.
        out_alias = os.path.join(self.dir, "alias.csv")
        out_run = os.path.join(self.dir, "run.csv")
        pa = run_json(ws, "predict", "--model", "income@champion", "--input", "adult_test@1",
                      "--output", out_alias)
        run_json(ws, "predict", "--model", self.runs[1]["run_id"], "--input", "adult_test@1",
                 "--output", out_run)
        self.assertEqual(pa["rows"], 16281)
        self.assertEqual(pa["run_id"], self.runs[1]["run_id"])
        with open(out_alias) as a, open(out_run) as b:
            self.assertEqual(a.read(), b.read())
        msg = self.fails(1, "predict", "--model", "income@prod", "--input", "adult_test@1",
                         "--output", out_alias)
        self.assertIn("champion -> 2", msg)

        # GitOps: revert the promotion in git, sync, and the registry follows.
        git(ws, "revert", "--no-edit", "HEAD")
        moves = run_json(ws, "models", "sync")["moves"]
        self.assertEqual([(m["alias"], m["from_version"], m["to_version"]) for m in moves],
                         [("champion", 2, 1)])
        self.assertEqual(run_json(ws, "models", "show", "income")["aliases"], {"champion": 1})

        # Rollback undoes the latest move (the sync), then the promotion before it.
        r1 = run_json(ws, "models", "rollback", "income", "--reason", "sync was a mistake")
        self.assertEqual((r1["from_version"], r1["to_version"]), (1, 2))
        r2 = run_json(ws, "models", "rollback", "income")
        self.assertEqual((r2["from_version"], r2["to_version"]), (2, 1))
        msg = self.fails(1, "models", "rollback", "income")
        self.assertIn("cannot roll back income@champion", msg)
        self.assertIn("roll back income@champion from version 2 to 1", git(ws, "log", "-1"))

        # The audit log has every change, and verifies.
        entries = run_json(ws, "audit", "log", "income")["entries"]
        actions = [e["action"] for e in entries]
        self.assertEqual(actions, ["register", "register", "set_tag", "promote", "promote",
                                   "sync", "rollback", "rollback"])
        self.assertTrue(all(e["actor"] == "e2e" for e in entries))
        self.assertEqual(entries[3]["reason"], "baseline")
        self.assertIn("at git commit", entries[5]["reason"])
        verified = run_json(ws, "audit", "verify")
        self.assertTrue(verified["ok"])
        self.assertEqual(verified["checked"], entries[-1]["seq"])
        self.assertIn(b"verified", run(ws, "audit", "verify").stdout)

        # Editing one row by hand is found, and named.
        promote = entries[4]
        db = sqlite3.connect(os.path.join(ws, ".mloop", "mloop.db"))
        with db:
            db.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = ?",
                       (promote["seq"],))
        db.close()
        r = run(ws, "audit", "verify")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(f"entry {promote['seq']} (promote)", r.stdout.decode())
        self.assertIn("hash mismatch", r.stdout.decode())
        r = run(ws, "--json", "audit", "verify")
        self.assertEqual(r.returncode, 3)
        out = json.loads(r.stdout)
        self.assertEqual((out["ok"], out["first_bad_seq"], out["first_bad_action"]),
                         (False, promote["seq"], "promote"))


if __name__ == "__main__":
    unittest.main()
