"""End-to-end tests of the mloop command line: the real binary, real files.

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
ADULT_NAMES = ("age,workclass,fnlwgt,education,education_num,marital_status,occupation,"
               "relationship,race,sex,capital_gain,capital_loss,hours_per_week,"
               "native_country,income")


def run(*args, cwd=None, env=None):
    full_env = dict(os.environ, MLOOP_NO_PROGRESS="1")
    full_env.pop("MLOOP_WORKSPACE", None)
    if env:
        full_env.update(env)
    return subprocess.run([MLOOP, *args], capture_output=True, cwd=cwd, env=full_env,
                          timeout=300)


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mloop-e2e-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class InspectDatasets(unittest.TestCase):
    def test_bike_hour(self):
        r = run("inspect", os.path.join(DATASETS, "bike_sharing", "hour.csv"), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 17379)
        self.assertEqual(len(doc["columns"]), 17)
        types = {c["name"]: c["type"] for c in doc["columns"]}
        self.assertIn(types["dteday"], ("date", "timestamp"))
        self.assertEqual(types["cnt"], "int64")
        self.assertEqual(types["temp"], "float64")
        self.assertEqual(doc["malformed_rows"], [])
        cnt = next(c for c in doc["columns"] if c["name"] == "cnt")
        self.assertEqual(cnt["nulls"], 0)
        self.assertEqual(cnt["min"], 1)
        self.assertEqual(cnt["max"], 977)
        self.assertAlmostEqual(cnt["mean"], 189.46308763450142, places=6)

    def test_adult_data(self):
        r = run("inspect", os.path.join(DATASETS, "adult", "adult.data"),
                "--names", ADULT_NAMES, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 32561)
        cols = {c["name"]: c for c in doc["columns"]}
        self.assertEqual(len(cols), 15)
        self.assertEqual(cols["age"]["type"], "int64")
        self.assertIn(cols["workclass"]["type"], ("category", "string"))
        # Adult writes missing values as "?": 1,836 workclass, 1,843 occupation, 583
        # native-country.
        self.assertEqual(cols["workclass"]["nulls"], 1836)
        self.assertEqual(cols["occupation"]["nulls"], 1843)
        self.assertEqual(cols["native_country"]["nulls"], 583)
        self.assertTrue(doc["dialect"]["skip_initial_space"])
        self.assertFalse(doc["dialect"]["header"])
        income = {i["value"]: i["count"] for i in cols["income"]["top_k"]}
        self.assertEqual(income, {"<=50K": 24720, ">50K": 7841})

    def test_adult_test_skips_first_line(self):
        r = run("inspect", os.path.join(DATASETS, "adult", "adult.test"),
                "--names", ADULT_NAMES, "--skip-lines", "1", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 16281)
        cols = {c["name"]: c for c in doc["columns"]}
        self.assertEqual(cols["age"]["type"], "int64")
        income = {i["value"]: i["count"] for i in cols["income"]["top_k"]}
        self.assertEqual(income, {"<=50K.": 12435, ">50K.": 3846})

    def test_human_output(self):
        r = run("inspect", os.path.join(DATASETS, "bike_sharing", "hour.csv"))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("17379 rows, 17 columns", out)
        self.assertIn("dteday", out)


class BadInput(Tmp):
    def assertFailsNaming(self, r, *needles):
        self.assertEqual(r.returncode, 1, (r.stdout, r.stderr))
        err = r.stderr.decode(errors="replace")
        for n in needles:
            self.assertIn(n, err)
        self.assertNotIn("internal error", err)

    def test_unterminated_quote_at_end_of_file(self):
        path = self.write("q.csv", b'a,b\n1,x\n2,"never closed\n')
        r = run("inspect", path, "--json")
        self.assertFailsNaming(r, path, "line 3")
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 1)
        self.assertEqual(doc["malformed_rows"][0]["line"], 3)
        self.assertIn("never closed", doc["malformed_rows"][0]["reason"])

    def test_row_with_too_many_fields(self):
        path = self.write("wide.csv", b"a,b\n1,2\n3,4,5\n6,7\n8,9,10,11\n")
        r = run("inspect", path, "--json")
        self.assertFailsNaming(r, path, "2 malformed rows", "line 3")
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 2)
        self.assertEqual([m["line"] for m in doc["malformed_rows"]], [3, 5])
        self.assertEqual(doc["malformed_rows"][0]["reason"], "expected 2 fields, found 3")
        human = run("inspect", path)
        self.assertIn(b"line 3: expected 2 fields, found 3", human.stdout)

    def test_invalid_utf8(self):
        path = self.write("bad.csv", b"a,b\n1,ok\n2,\xff\xfe\n")
        r = run("inspect", path, "--json")
        self.assertFailsNaming(r, path, "line 3", "invalid UTF-8")

    def test_empty_file(self):
        path = self.write("empty.csv", b"")
        r = run("inspect", path)
        self.assertFailsNaming(r, path, "empty file")
        r = run("inspect", path, "--json")
        self.assertEqual(json.loads(r.stdout)["error"]["code"], "invalid_argument")

    def test_hundred_megabyte_field(self):
        path = os.path.join(self.dir, "huge.csv")
        with open(path, "wb") as f:
            f.write(b"a,b\n1,small\n2,")
            f.write(b"x" * (100 << 20))
            f.write(b"\n3,small\n")
        r = run("inspect", path, "--json")
        self.assertFailsNaming(r, path, "line 3", "over the limit")
        doc = json.loads(r.stdout)
        self.assertEqual(doc["rows"], 2)
        self.assertEqual(doc["malformed_rows"][0]["line"], 3)

    def test_missing_file(self):
        path = os.path.join(self.dir, "nope.csv")
        r = run("inspect", path)
        self.assertFailsNaming(r, path, "no such file")
        r = run("inspect", path, "--json")
        self.assertEqual(json.loads(r.stdout)["error"]["code"], "not_found")

    def test_directory(self):
        r = run("inspect", self.dir)
        self.assertFailsNaming(r, self.dir, "is a directory")

    def test_jsonl_bad_line(self):
        path = self.write("x.jsonl", b'{"a": 1}\n{"a": oops}\n{"a": 2}\n')
        r = run("inspect", path, "--json")
        self.assertFailsNaming(r, path, "line 2", "invalid JSON")
        self.assertEqual(json.loads(r.stdout)["rows"], 2)

    def test_bad_type_option(self):
        path = self.write("t.csv", b"a,b\n1,2\n")
        r = run("inspect", path, "--type", "a=decimal")
        self.assertFailsNaming(r, "unknown type 'decimal'")

    def test_usage_errors_exit_2(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("inspect").returncode, 2)
        self.assertEqual(run("no-such-command").returncode, 2)
        self.assertEqual(run("inspect", "x.csv", "--bogus").returncode, 2)


class ContractSuggest(Tmp):
    def test_suggest_adult_writes_a_contract_that_fits_the_data(self):
        out = os.path.join(self.dir, "adult.yaml")
        r = run("contract", "suggest", os.path.join(DATASETS, "adult", "adult.data"),
                "--names", ADULT_NAMES, "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("contract", "suggest", os.path.join(DATASETS, "adult", "adult.data"),
                "--names", ADULT_NAMES, "--json")
        doc = json.loads(r.stdout)["contract"]
        cols = doc["columns"]
        self.assertEqual(len(cols), 15)
        self.assertEqual(cols["age"], {"type": "int64", "nullable": False, "min": 17, "max": 90})
        self.assertNotIn("nullable", cols["workclass"])  # 1,836 rows have "?"
        self.assertEqual(sorted(cols["sex"]["allowed"]), ["Female", "Male"])
        self.assertEqual(len(cols["native_country"]["allowed"]), 41)
        self.assertEqual(doc["format"]["names"], ADULT_NAMES.split(","))
        with open(out) as f:
            text = f.read()
        self.assertIn("names: [age, workclass", text)
        again = run("contract", "suggest", os.path.join(DATASETS, "adult", "adult.data"),
                    "--names", ADULT_NAMES, "--output", out)
        self.assertEqual(again.returncode, 1)
        self.assertIn(b"already exists", again.stderr)

    def test_suggest_refuses_malformed_batches(self):
        path = self.write("bad.csv", b"a,b\n1,2\n3,4,5\n")
        r = run("contract", "suggest", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"1 malformed rows", r.stderr)


class Validate(Tmp):
    CONTRACT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "data", "testdata",
                            "adult_contract.yaml")

    def test_adult_files_are_accepted(self):
        for name, rows in (("adult.data", 32561), ("adult.test", 16281)):
            r = run("validate", os.path.join(DATASETS, "adult", name), "--contract",
                    self.CONTRACT, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = json.loads(r.stdout)
            self.assertEqual(doc["status"], "accepted")
            self.assertEqual(doc["rows_in"], rows)
            self.assertEqual(doc["rows_clean"] + doc["rows_quarantined"], doc["rows_in"])

    def adult_lines(self, bad_ages):
        """The first 2000 lines of adult.data (enough for the contract's row count and
        distinct educations) with age 390 on the given 0-based lines, and a malformed record
        on line 21."""
        with open(os.path.join(DATASETS, "adult", "adult.data"), "rb") as f:
            lines = f.read().split(b"\n")[:2000]
        for i in bad_ages:
            lines[i] = b"390" + lines[i][lines[i].index(b","):]
        lines[20] = b"1, 2, 3"
        return b"\n".join(lines) + b"\n"

    def test_bad_rows_are_quarantined_and_the_batch_accepted(self):
        path = self.write("bad.csv", self.adult_lines([10]))
        r = run("validate", path, "--contract", self.CONTRACT, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["status"], "accepted")
        self.assertEqual(doc["rows_in"], doc["rows_clean"] + doc["rows_quarantined"])
        self.assertEqual(sorted(q["line"] for q in doc["quarantine"]), [11, 21])
        age = [c for c in doc["checks"] if (c["check"], c["column"]) == ("max", "age")][0]
        self.assertEqual(age["unexpected_count"], 1)
        self.assertEqual(age["sample"], ["390"])
        # The human summary names the failing check.
        human = run("validate", path, "--contract", self.CONTRACT)
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertIn(b"max age", human.stdout)

    def test_a_bad_batch_is_rejected_with_exit_3(self):
        # 31 of 2000 rows quarantined is more than the contract's quarantine_share of 1%.
        bad = [10] + list(range(100, 2000, 64))
        path = self.write("bad.csv", self.adult_lines(bad))
        r = run("validate", path, "--contract", self.CONTRACT, "--json")
        self.assertEqual(r.returncode, 3, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["status"], "rejected")
        self.assertEqual(doc["rows_in"], doc["rows_clean"] + doc["rows_quarantined"])
        self.assertEqual(sorted(q["line"] for q in doc["quarantine"]),
                         sorted([21] + [i + 1 for i in bad]))
        failed = {(c["check"], c["column"]) for c in doc["checks"] if c["passed"] is False}
        self.assertIn(("quarantine_share", None), failed)
        human = run("validate", path, "--contract", self.CONTRACT)
        self.assertEqual(human.returncode, 3, human.stderr)
        self.assertIn(b"rejected", human.stdout)

    def test_missing_contract_is_an_error(self):
        r = run("validate", os.path.join(DATASETS, "adult", "adult.data"), "--contract",
                os.path.join(self.dir, "nope.yaml"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"nope.yaml", r.stderr)


class Workspace(Tmp):
    def test_init_creates_store(self):
        ws = os.path.join(self.dir, "proj")
        r = run("init", ws, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(ws, "mloop.yaml")))
        self.assertTrue(os.path.isdir(os.path.join(ws, ".mloop")))
        self.assertTrue(os.path.isdir(os.path.join(ws, ".mloop", "artifacts")))
        dbs = [f for f in os.listdir(os.path.join(ws, ".mloop")) if f.endswith(".db")]
        self.assertEqual(len(dbs), 1)
        again = run("init", ws)
        self.assertEqual(again.returncode, 1)
        self.assertIn(b"already", again.stderr)

    def test_version(self):
        r = run("version", "--json")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(json.loads(r.stdout)["version"], r"^\d+\.\d+\.\d+$")
        self.assertRegex(run("version").stdout.decode(), r"^mloop \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
