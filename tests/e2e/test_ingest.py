"""End-to-end tests of `mloop ingest` and `mloop datasets`: the real binary, real files,
a fresh workspace per test.

Run by ctest with MLOOP (the binary) and MLOOP_DATASETS_DIR (../shared/datasets) set.
"""
import csv
import glob
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

MLOOP = os.environ["MLOOP"]
DATASETS = os.environ["MLOOP_DATASETS_DIR"]
ADULT_DATA = os.path.join(DATASETS, "adult", "adult.data")
ADULT_TEST = os.path.join(DATASETS, "adult", "adult.test")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(ROOT, "src", "data", "testdata", "adult_contract.yaml")
ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num",
                 "marital_status", "occupation", "relationship", "race", "sex",
                 "capital_gain", "capital_loss", "hours_per_week", "native_country", "income"]
COL = {name: i for i, name in enumerate(ADULT_COLUMNS)}
ADULT_DATA_ROWS = 32561
ADULT_TEST_ROWS = 16281


def env():
    e = dict(os.environ, MLOOP_NO_PROGRESS="1")
    e.pop("MLOOP_WORKSPACE", None)
    return e


def run(*args, cwd=None, timeout=300):
    return subprocess.run([MLOOP, *args], capture_output=True, cwd=cwd, env=env(),
                          timeout=timeout)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_lines(path):
    """The file's lines as text, without their line ends (line N is index N-1)."""
    with open(path, "rb") as f:
        return f.read().decode().split("\n")


def data_records(lines):
    """The number of non-blank lines (Adult has no header)."""
    return sum(1 for l in lines if l.strip())


def summary(doc):
    """An ingest answer without its passing checks, for failure messages."""
    if not isinstance(doc, dict) or "checks" not in doc:
        return doc
    out = {k: v for k, v in doc.items() if k not in ("checks", "metrics")}
    out["failing_checks"] = [(c["check"], c["column"], c.get("rule"), c["severity"],
                              c["passed"], c["unexpected_count"]) for c in doc["checks"]
                             if c["passed"] is False or c["unexpected_count"]]
    return out


def set_field(line, column, value):
    fields = line.split(", ")
    fields[COL[column]] = value
    return ", ".join(fields)


class Workspace(unittest.TestCase):
    """A fresh temp folder with an mloop workspace in it, per test."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mloop-e2e-ingest-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)  # even if setUp fails
        self.ws = os.path.join(self.dir, "ws")
        r = run("init", self.ws)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(self.db_path()))

    # --- helpers ---------------------------------------------------------------------------

    def path(self, name):
        return os.path.join(self.dir, name)

    def db_path(self):
        return os.path.join(self.ws, ".mloop", "mloop.db")

    def write(self, name, text):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        return p

    def mloop(self, *args, timeout=300):
        return run("--workspace", self.ws, *args, timeout=timeout)

    def mloop_json(self, *args, timeout=300):
        r = run("--workspace", self.ws, "--json", *args, timeout=timeout)
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            self.fail("not one JSON document on stdout for %r: rc=%d stdout=%r stderr=%r"
                      % (args, r.returncode, r.stdout[:2000], r.stderr[:2000]))
        return r, doc

    def ingest(self, sources, dataset, contract=None, expect_rc=0):
        if isinstance(sources, str):
            sources = [sources]
        args = ["ingest", *sources, "--dataset", dataset]
        if contract:
            args += ["--contract", contract]
        r, doc = self.mloop_json(*args)
        if expect_rc is not None:
            self.assertEqual(r.returncode, expect_rc, (summary(doc), r.stderr))
        return doc

    def contract(self, name, replacements=(), drop_distribution=False):
        """A copy of the Adult contract with exact text replacements (each must match once)."""
        with open(CONTRACT) as f:
            text = f.read()
        for old, new in replacements:
            self.assertEqual(text.count(old), 1, "contract text %r" % old)
            text = text.replace(old, new)
        if drop_distribution:
            # `distribution` is the last block of the contract; its reference adult@latest
            # must exist unless the dataset is `adult` itself.
            i = text.index("\n  distribution:\n")
            text = text[:i + 1]
        return self.write(name, text)

    def datasets(self):
        r, doc = self.mloop_json("datasets", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {d["name"]: d for d in doc["datasets"]}

    def export_rows(self, ref, ext="csv"):
        out = self.path("export-%s.%s" % (ref.replace("@", "-"), ext))
        r, doc = self.mloop_json("datasets", "export", ref, "--output", out)
        self.assertEqual(r.returncode, 0, (doc, r.stderr))
        with open(out, newline="") as f:
            if ext == "csv":
                rows = list(csv.DictReader(f))
            else:
                rows = [json.loads(l) for l in f if l.strip()]
        self.assertEqual(doc["rows"], len(rows))
        return rows

    def quarantine(self, ref_or_id):
        r = self.mloop("datasets", "quarantine", ref_or_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]

    def check(self, doc, check, column=None, rule=None):
        found = [c for c in doc["checks"] if c["check"] == check and c["column"] == column
                 and (rule is None or c.get("rule") == rule)]
        self.assertEqual(len(found), 1, (check, column, rule))
        return found[0]


class CorruptionInjection(Workspace):
    """Known corruptions in a copy of adult.data: exactly those rows are quarantined, each
    with its reason, and the counts add up."""

    SEED = 20261126

    def corrupt(self, kinds, per_kind=3):
        """Writes adult.data with `per_kind` seeded-random distinct lines corrupted per kind.
        Returns (path, lines, expected) where expected maps line number -> (kind, check,
        column, detail substring)."""
        lines = read_lines(ADULT_DATA)
        records = [i for i, l in enumerate(lines) if l.strip()]
        self.assertEqual(len(records), ADULT_DATA_ROWS)
        rng = random.Random(self.SEED)
        used = set()

        def pick(pool):
            pool = [i for i in pool if i not in used]
            chosen = rng.sample(pool, per_kind)
            used.update(chosen)
            return chosen

        # Rows whose education_num is below 13 break `education_consistent` as Bachelors.
        low_edu = [i for i in records if int(lines[i].split(", ")[COL["education_num"]]) < 13]
        expected = {}
        wrong_type_columns = ["age", "hours_per_week", "fnlwgt"]
        for kind in kinds:
            for n, i in enumerate(pick(low_edu if kind == "row_rule" else records)):
                line = lines[i]
                if kind == "null":
                    line, exp = set_field(line, "age", "?"), ("nullable", "age", "null")
                elif kind == "max":
                    line, exp = set_field(line, "age", "150"), ("max", "age", "150")
                elif kind == "allowed_sex":
                    line, exp = set_field(line, "sex", "Robot"), ("allowed", "sex", "Robot")
                elif kind == "allowed_race":
                    line = set_field(line, "race", "Martian")
                    exp = ("allowed", "race", "Martian")
                elif kind == "extra_field":
                    line, exp = line + ", extra", ("malformed", None, "found 16")
                elif kind == "missing_field":
                    line = ", ".join(line.split(", ")[:-1])
                    exp = ("malformed", None, "found 14")
                elif kind == "wrong_type":
                    column = wrong_type_columns[n % len(wrong_type_columns)]
                    line = set_field(line, column, "abc")
                    exp = ("malformed", None, "'%s'" % column)
                elif kind == "row_rule":
                    line = set_field(line, "education", "Bachelors")
                    exp = ("row_rule", None, "education_consistent")
                else:
                    raise AssertionError(kind)
                self.assertNotEqual(line, lines[i])
                lines[i] = line
                expected[i + 1] = (kind,) + exp
        path = self.write("adult_corrupted.data", "\n".join(lines))
        self.assertEqual(data_records(lines), ADULT_DATA_ROWS)
        return path, lines, expected

    def assertQuarantineIsExactly(self, records, path, lines, expected):
        by_line = {}
        for q in records:
            self.assertNotIn(q["line"], by_line, "line quarantined twice: %r" % q)
            by_line[q["line"]] = q
        self.assertEqual(sorted(by_line), sorted(expected),
                         "quarantined lines differ from the injected ones")
        for line_no, (kind, check, column, detail) in expected.items():
            q = by_line[line_no]
            self.assertEqual(q["source"], path, q)
            self.assertEqual(q["text"], lines[line_no - 1], q)
            self.assertEqual(len(q["reasons"]), 1, (kind, q))
            reason = q["reasons"][0]
            self.assertEqual(reason["check"], check, (kind, q))
            self.assertEqual(reason["column"], column, (kind, q))
            self.assertIn(detail, reason["detail"], (kind, q))
            if check == "malformed" and kind == "wrong_type":
                self.assertIn("int64", reason["detail"], q)

    def assertCheckCounts(self, doc, expected):
        count = lambda *kinds: sum(1 for e in expected.values() if e[0] in kinds)
        malformed = count("extra_field", "missing_field", "wrong_type")
        self.assertEqual(self.check(doc, "malformed")["unexpected_count"], malformed)
        if count("null"):
            c = self.check(doc, "nullable", "age")
            self.assertEqual(c["unexpected_count"], count("null"))
            self.assertEqual(c["sample"], ["null"])
        self.assertEqual(self.check(doc, "max", "age")["unexpected_count"], count("max"))
        self.assertEqual(self.check(doc, "allowed", "sex")["unexpected_count"],
                         count("allowed_sex"))
        self.assertEqual(self.check(doc, "allowed", "race")["unexpected_count"],
                         count("allowed_race"))
        self.assertEqual(self.check(doc, "row_rule", rule="education_consistent")
                         ["unexpected_count"], count("row_rule"))
        self.assertIn("150", self.check(doc, "max", "age")["sample"])
        self.assertIn("Robot", self.check(doc, "allowed", "sex")["sample"])

    def assertSourceCounts(self, doc, expected):
        # Per source: its records (malformed ones included) and its malformed ones.
        malformed = sum(1 for e in expected.values()
                        if e[0] in ("extra_field", "missing_field", "wrong_type"))
        self.assertEqual(len(doc["sources"]), 1)
        self.assertEqual((doc["sources"][0]["rows_in"], doc["sources"][0]["rows_malformed"]),
                         (ADULT_DATA_ROWS, malformed), doc["sources"])

    def assertCountsAddUp(self, doc, expected):
        self.assertEqual(doc["rows_in"], ADULT_DATA_ROWS)
        self.assertEqual(doc["rows_quarantined"], len(expected))
        self.assertEqual(doc["rows_clean"] + doc["rows_quarantined"], doc["rows_in"])
        self.assertEqual(doc["metrics"]["rows_in"], doc["rows_in"])
        self.assertEqual(doc["metrics"]["rows_clean"], doc["rows_clean"])
        self.assertEqual(doc["metrics"]["rows_quarantined"], doc["rows_quarantined"])

    ALL_KINDS = ["null", "max", "allowed_sex", "allowed_race", "extra_field",
                 "missing_field", "wrong_type", "row_rule"]

    def test_exactly_the_corrupted_rows_are_quarantined_and_the_rest_is_the_version(self):
        # The contract as shipped: an `error` check without `mostly` quarantines its failing
        # rows and lets the batch go on (within quarantine_share: 1%).
        path, lines, expected = self.corrupt(self.ALL_KINDS)
        self.assertEqual(len(expected), 3 * len(self.ALL_KINDS))
        doc = self.ingest(path, "adult", CONTRACT, expect_rc=0)
        self.assertEqual((doc["status"], doc["version"], doc["ref"], doc["reused"]),
                         ("accepted", 1, "adult@1", False))
        self.assertCountsAddUp(doc, expected)
        self.assertCheckCounts(doc, expected)
        for c in doc["checks"]:
            if c["severity"] == "error":
                self.assertIsNot(c["passed"], False, c)

        records = self.quarantine("adult@1")
        self.assertQuarantineIsExactly(records, path, lines, expected)
        self.assertEqual(self.quarantine(doc["ingestion"]), records)
        out = self.path("q.jsonl")
        r, qdoc = self.mloop_json("datasets", "quarantine", "adult@1", "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            self.assertEqual([json.loads(l) for l in f if l.strip()], records)

        rows = self.export_rows("adult@1")
        self.assertEqual(len(rows), doc["rows_clean"])
        self.assertEqual(len(rows), ADULT_DATA_ROWS - len(expected))
        self.assertEqual(list(rows[0].keys()), ADULT_COLUMNS)
        # The version is exactly the untouched lines, in file order.
        clean = [l for n, l in enumerate(lines, 1) if l.strip() and n not in expected]
        self.assertEqual([r["fnlwgt"] for r in rows], [l.split(", ")[2] for l in clean])
        self.assertFalse([r for r in rows if r["age"] in ("", "150") or r["sex"] == "Robot"
                          or r["race"] == "Martian"])
        r, show = self.mloop_json("datasets", "show", "adult@1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(show["rows"], doc["rows_clean"])
        self.assertEqual(self.datasets()["adult"]["latest_rows"], doc["rows_clean"])

        # Per source: its records (malformed ones included) and its malformed ones.
        self.assertSourceCounts(doc, expected)
        r, lineage = self.mloop_json("datasets", "lineage", "adult@1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSourceCounts(lineage, expected)

    def test_too_many_quarantined_rows_reject_the_batch_and_keep_the_quarantine(self):
        # 24 of 32,561 rows (0.07%) quarantined, over a quarantine_share of 0.05%.
        contract = self.contract("strict.yaml", [("quarantine_share: {max: 0.01}",
                                                  "quarantine_share: {max: 0.0005}")])
        path, lines, expected = self.corrupt(self.ALL_KINDS)
        doc = self.ingest(path, "adult", contract, expect_rc=3)
        self.assertEqual(doc["status"], "rejected")
        self.assertIsNone(doc["version"])
        self.assertIsNone(doc["ref"])
        self.assertCountsAddUp(doc, expected)
        self.assertCheckCounts(doc, expected)
        share = self.check(doc, "quarantine_share")
        self.assertFalse(share["passed"])
        self.assertAlmostEqual(share["observed_value"], len(expected) / ADULT_DATA_ROWS)
        self.assertQuarantineIsExactly(self.quarantine(doc["ingestion"]), path, lines, expected)
        listed = self.datasets()["adult"]
        self.assertEqual((listed["versions"], listed["ingestions"], listed["rejected"]),
                         (0, 1, 1))
        self.assertSourceCounts(doc, expected)

    def test_quarantine_records_of_parsed_rows_keep_their_values(self):
        # docs/datasets.md: "`values` is present for records that parsed, with nulls as
        # `null`" (next to `text`).
        path, lines, expected = self.corrupt(["null", "max", "allowed_sex"], per_kind=2)
        doc = self.ingest(path, "adult", CONTRACT, expect_rc=None)
        records = {q["line"]: q for q in self.quarantine(doc["ingestion"])}
        self.assertEqual(sorted(records), sorted(expected))
        for line_no, (kind, check, column, _) in expected.items():
            q = records[line_no]
            self.assertEqual(q["text"], lines[line_no - 1])
            self.assertIn("values", q, "parsed quarantined record without values: %r" % q)
            want = {"null": None, "max": 150, "allowed_sex": "Robot"}[kind]
            self.assertEqual(q["values"][column], want, q)

    def test_human_summary_of_a_batch_with_quarantined_rows(self):
        # Without --json the summary is printed and the exit code is 0 (accepted) or 3
        # (rejected), never an internal error.
        path, lines, expected = self.corrupt(["max", "extra_field"], per_kind=1)
        strict = self.contract("strict.yaml", [("quarantine_share: {max: 0.01}",
                                                "quarantine_share: {max: 0.00001}")],
                               drop_distribution=True)
        for dataset, contract, rc, status in (("adult", CONTRACT, 0, "accepted"),
                                              ("rejected", strict, 3, "rejected")):
            r = self.mloop("ingest", path, "--dataset", dataset, "--contract", contract)
            err = r.stderr.decode(errors="replace")
            self.assertNotIn("internal error", err, dataset)
            self.assertEqual(r.returncode, rc, (r.stdout, err))
            out = r.stdout.decode()
            self.assertIn("%s: %s" % (dataset, status), out)
            self.assertIn("quarantined %d" % len(expected), out)
            self.assertIn("mloop datasets quarantine", out)


class AdultFiles(Workspace):
    def test_adult_data_and_test_ingest_and_export_round_trip(self):
        data = self.ingest(ADULT_DATA, "adult", CONTRACT)
        self.assertEqual((data["status"], data["version"], data["reused"]),
                         ("accepted", 1, False))
        self.assertEqual((data["rows_in"], data["rows_clean"], data["rows_quarantined"]),
                         (ADULT_DATA_ROWS, ADULT_DATA_ROWS, 0))
        self.assertEqual(data["contract"]["source"], CONTRACT)
        self.assertRegex(data["contract"]["digest"], "^[0-9a-f]{64}$")
        self.assertEqual(data["sources"][0]["sha256"], sha256_file(ADULT_DATA))
        self.assertEqual(data["sources"][0]["bytes"], os.path.getsize(ADULT_DATA))

        test = self.ingest(ADULT_TEST, "adult_test", CONTRACT)
        self.assertEqual((test["status"], test["version"]), ("accepted", 1))
        self.assertEqual((test["rows_in"], test["rows_clean"], test["rows_quarantined"]),
                         (ADULT_TEST_ROWS, ADULT_TEST_ROWS, 0))
        # adult_test's distribution check compares it with adult@latest, which now exists.
        dist = self.check(test, "distribution", "age, hours_per_week, education")
        self.assertIs(dist["passed"], True, dist)

        listed = self.datasets()
        self.assertEqual(listed["adult"]["latest_rows"], ADULT_DATA_ROWS)
        self.assertEqual(listed["adult_test"]["latest_rows"], ADULT_TEST_ROWS)

        rows = self.export_rows("adult@1")
        self.assertEqual(len(rows), ADULT_DATA_ROWS)
        incomes = [r["income"] for r in rows]
        self.assertEqual((incomes.count("<=50K"), incomes.count(">50K")), (24720, 7841))
        self.assertEqual(rows[0]["age"], "39")
        self.assertEqual(rows[0]["workclass"], "State-gov")

        rows = self.export_rows("adult_test@latest")
        self.assertEqual(len(rows), ADULT_TEST_ROWS)
        incomes = [r["income"] for r in rows]
        self.assertTrue(all(i.endswith(".") for i in incomes))
        self.assertEqual((incomes.count("<=50K."), incomes.count(">50K.")), (12435, 3846))

        jrows = self.export_rows("adult_test@1", ext="jsonl")
        self.assertEqual(len(jrows), ADULT_TEST_ROWS)
        self.assertEqual(list(jrows[0].keys()), ADULT_COLUMNS)
        self.assertIsInstance(jrows[0]["age"], int)
        # Nulls ("?" in the file) come back as JSON nulls: 1,221 test rows have one.
        with_null = sum(1 for r in jrows if any(v is None for v in r.values()))
        self.assertEqual(with_null, 1221)

    def test_exported_version_ingests_back_to_the_same_rows(self):
        self.ingest(ADULT_DATA, "adult", CONTRACT)
        out = self.path("adult1.jsonl")
        r, doc = self.mloop_json("datasets", "export", "adult@1", "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        again = self.ingest(out, "adult_again")
        self.assertEqual((again["rows_in"], again["rows_clean"]),
                         (ADULT_DATA_ROWS, ADULT_DATA_ROWS))
        self.assertEqual(self.export_rows("adult_again@1"), self.export_rows("adult@1"))


class Dedup(Workspace):
    def test_same_bytes_reuse_the_version_and_a_changed_byte_makes_a_new_one(self):
        first = self.ingest(ADULT_DATA, "adult", CONTRACT)
        self.assertEqual((first["version"], first["reused"]), (1, False))
        again = self.ingest(ADULT_DATA, "adult", CONTRACT)
        self.assertEqual((again["status"], again["version"], again["reused"]),
                         ("accepted", 1, True))
        self.assertEqual(again["ref"], "adult@1")
        listed = self.datasets()["adult"]
        self.assertEqual((listed["versions"], listed["latest_version"]), (1, 1))

        # A copy with the same bytes elsewhere is the same batch.
        copy = self.path("copy/adult.data")
        os.makedirs(os.path.dirname(copy))
        shutil.copyfile(ADULT_DATA, copy)
        self.assertEqual(self.ingest(copy, "adult", CONTRACT)["version"], 1)

        # One changed byte: first row's age 39 -> 38.
        with open(ADULT_DATA, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"39, "))
        changed = self.write("changed.data", b"38" + data[2:])
        new = self.ingest(changed, "adult", CONTRACT)
        self.assertEqual((new["status"], new["version"], new["reused"]),
                         ("accepted", 2, False))
        self.assertEqual(self.export_rows("adult@2")[0]["age"], "38")
        self.assertEqual(self.export_rows("adult@1")[0]["age"], "39")
        # Another contract (another digest) on the same bytes is a new version too.
        other = self.contract("other.yaml", [("row_count: {min: 1000}", "row_count: {min: 999}")])
        self.assertEqual(self.ingest(ADULT_DATA, "adult", other)["version"], 3)
        self.assertEqual(self.datasets()["adult"]["versions"], 3)

    def test_several_sources_make_one_version_with_both_in_its_lineage(self):
        contract = self.contract("adult.yaml", drop_distribution=True)
        lines = [l for l in read_lines(ADULT_DATA) if l.strip()]
        p1 = self.write("parts/part-1.data", "\n".join(lines[:20000]) + "\n")
        p2 = self.write("parts/part-2.data", "\n".join(lines[20000:]) + "\n")
        want = [(p1, sha256_file(p1), os.path.getsize(p1)),
                (p2, sha256_file(p2), os.path.getsize(p2))]
        source_rows = []

        for dataset, sources in (("listed", [p1, p2]),
                                 ("globbed", [os.path.join(self.dir, "parts", "*.data")])):
            doc = self.ingest(sources, dataset, contract)
            self.assertEqual((doc["status"], doc["version"], doc["rows_in"]),
                             ("accepted", 1, ADULT_DATA_ROWS), dataset)
            r, lineage = self.mloop_json("datasets", "lineage", dataset + "@1")
            self.assertEqual(r.returncode, 0, r.stderr)
            got = [(s["path"], s["sha256"], s["bytes"]) for s in lineage["sources"]]
            self.assertEqual(got, want, dataset)
            self.assertEqual(got, [(s["path"], s["sha256"], s["bytes"])
                                   for s in doc["sources"]], dataset)
            source_rows.append([s["rows_in"] for s in lineage["sources"]])
            self.assertEqual(lineage["ingestion"], doc["ingestion"])
            self.assertEqual(lineage["contract"]["digest"], doc["contract"]["digest"])
            self.assertEqual(len(self.export_rows(dataset + "@1")), ADULT_DATA_ROWS)
            self.assertEqual(self.datasets()[dataset]["versions"], 1)

        # The glob expands to the same files in the same order: the same batch.
        doc = self.ingest([os.path.join(self.dir, "parts", "part-*.data")], "listed", contract)
        self.assertEqual((doc["version"], doc["reused"]), (1, True))
        # Another order is another batch.
        doc = self.ingest([p2, p1], "listed", contract)
        self.assertEqual((doc["version"], doc["reused"]), (2, False))
        rows = self.export_rows("listed@2")
        self.assertEqual(len(rows), ADULT_DATA_ROWS)
        self.assertEqual(rows[0]["age"], lines[20000].split(", ")[0])
        # Each source's record count, as the lineage keeps it.
        self.assertEqual(source_rows, [[20000, ADULT_DATA_ROWS - 20000]] * 2)


class RejectedBatch(Workspace):
    def test_rejected_batch_writes_no_version_but_keeps_its_ingestion(self):
        self.ingest(ADULT_DATA, "adult", CONTRACT)
        contract = self.contract("too-few.yaml",
                                 [("row_count: {min: 1000}", "row_count: {min: 100000}")])
        lines = read_lines(ADULT_TEST)
        self.assertTrue(lines[0].startswith("|"))
        lines[5] = lines[5] + ", one too many"
        batch = self.write("adult_test_bad.test", "\n".join(lines))

        doc = self.ingest(batch, "adult", contract, expect_rc=3)
        self.assertEqual(doc["status"], "rejected")
        self.assertIsNone(doc["version"])
        self.assertFalse(doc["reused"])
        self.assertEqual((doc["rows_in"], doc["rows_quarantined"]), (ADULT_TEST_ROWS, 1))
        rc = self.check(doc, "row_count")
        self.assertEqual((rc["level"], rc["severity"], rc["passed"]), ("table", "error", False))
        self.assertEqual(rc["observed_value"], ADULT_TEST_ROWS)
        ingestion = doc["ingestion"]

        listed = self.datasets()["adult"]
        self.assertEqual((listed["versions"], listed["latest_version"], listed["ingestions"],
                          listed["rejected"]), (1, 1, 2, 1))
        r, show = self.mloop_json("datasets", "show", "adult")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(show["version"], 1)
        history = {h["ingestion"]: h for h in show["history"]}
        self.assertEqual(len(history), 2)
        self.assertEqual(history[ingestion]["status"], "rejected")
        self.assertIsNone(history[ingestion]["version"])
        self.assertEqual(history[ingestion]["rows_in"], ADULT_TEST_ROWS)
        self.assertEqual(history[ingestion]["rows_quarantined"], 1)

        for ref in (ingestion, ingestion[:8]):
            records = self.quarantine(ref)
            self.assertEqual(len(records), 1, ref)
            self.assertEqual(records[0]["line"], 6)
            self.assertEqual(records[0]["text"], lines[5])
            self.assertEqual(records[0]["reasons"][0]["check"], "malformed")
        out = self.path("rejected.csv")
        r, qdoc = self.mloop_json("datasets", "quarantine", ingestion, "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["line"], rows[0]["checks"], rows[0]["text"]),
                         ("6", "malformed", lines[5]))

        # The same rejected bytes again are checked again (a rejection is not reused) and
        # still make no version.
        doc = self.ingest(batch, "adult", contract, expect_rc=3)
        self.assertNotEqual(doc["ingestion"], ingestion)
        self.assertEqual(self.datasets()["adult"]["versions"], 1)
        # adult@2 does not exist.
        r, err = self.mloop_json("datasets", "show", "adult@2")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(err["error"]["code"], "not_found")


class Concurrency(Workspace):
    def start(self, source, dataset, contract):
        args = [MLOOP, "--workspace", self.ws, "--json", "ingest", source, "--dataset", dataset,
                "--contract", contract]
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())

    def finish(self, procs):
        docs = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, (out[:2000], err))
            docs.append(json.loads(out))
        return docs

    def halves(self, n=2):
        lines = [l for l in read_lines(ADULT_DATA) if l.strip()]
        size = len(lines) // n
        return [self.write("part-%d.data" % i, "\n".join(lines[i * size:(i + 1) * size]) + "\n")
                for i in range(n)]

    def test_two_ingests_into_one_dataset_get_versions_1_and_2(self):
        contract = self.contract("adult.yaml", drop_distribution=True)
        parts = self.halves(2)
        for round_no in range(3):
            dataset = "adult%d" % round_no
            docs = self.finish([self.start(p, dataset, contract) for p in parts])
            self.assertEqual(sorted(d["version"] for d in docs), [1, 2], docs)
            self.assertTrue(all(d["status"] == "accepted" and not d["reused"] for d in docs))
            listed = self.datasets()[dataset]
            self.assertEqual((listed["versions"], listed["latest_version"],
                              listed["ingestions"]), (2, 2, 2))
            for d in docs:
                r, lineage = self.mloop_json("datasets", "lineage", d["ref"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(lineage["sources"][0]["path"], d["sources"][0]["path"])
                self.assertEqual(len(self.export_rows(d["ref"])), d["rows_clean"])

    def test_four_ingests_into_four_datasets(self):
        contract = self.contract("adult.yaml", drop_distribution=True)
        parts = self.halves(4)
        procs = [self.start(p, "set%d" % i, contract) for i, p in enumerate(parts)]
        docs = self.finish(procs)
        for i, d in enumerate(docs):
            self.assertEqual((d["dataset"], d["version"], d["status"]),
                             ("set%d" % i, 1, "accepted"))
            self.assertEqual(d["sources"][0]["sha256"], sha256_file(parts[i]))
        listed = self.datasets()
        for i in range(4):
            self.assertEqual(listed["set%d" % i]["versions"], 1)
            self.assertEqual(listed["set%d" % i]["latest_rows"], docs[i]["rows_clean"])
        self.assertEqual(len({d["ingestion"] for d in docs}), 4)

    def test_two_identical_batches_racing_make_one_version(self):
        contract = self.contract("adult.yaml", drop_distribution=True)
        docs = self.finish([self.start(ADULT_DATA, "same", contract) for _ in range(2)])
        self.assertEqual([d["version"] for d in docs], [1, 1], docs)
        self.assertEqual(sorted(d["reused"] for d in docs), [False, True])
        self.assertEqual(self.datasets()["same"]["versions"], 1)


class KillNine(Workspace):
    COPIES = 10  # adult.data ten times: about 40 MB

    def test_sigkill_leaves_no_half_written_version(self):
        contract = self.contract("adult.yaml", drop_distribution=True)
        with open(ADULT_DATA, "rb") as f:
            one = f.read().rstrip(b"\n") + b"\n"
        big = self.write("big.data", one * self.COPIES)
        rows = ADULT_DATA_ROWS * self.COPIES
        self.assertGreater(os.path.getsize(big), 35_000_000)

        landed = 0
        delays = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
        for n, delay in enumerate(delays):
            dataset = "big%d" % n
            p = subprocess.Popen([MLOOP, "--workspace", self.ws, "--json", "ingest", big,
                                  "--dataset", dataset, "--contract", contract],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
            time.sleep(delay)
            if p.poll() is None:
                landed += 1
            try:
                p.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=60)

            listed = self.datasets().get(dataset)
            if listed is not None:
                self.assertIn(listed["versions"], (0, 1), listed)
                if listed["versions"]:
                    self.assertEqual(listed["latest_rows"], rows)
                    self.assertEqual(len(self.export_rows(dataset + "@1")), rows)
                    r, lineage = self.mloop_json("datasets", "lineage", dataset + "@1")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(lineage["sources"][0]["sha256"], sha256_file(big))
            with sqlite3.connect(self.db_path(), timeout=30) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
            db.close()
        print("\n  kill -9: %d of %d kills landed while ingest was running"
              % (landed, len(delays)), flush=True)

        # The workspace still works: the big file ingests, and the killed datasets take new
        # versions.
        doc = self.ingest(big, "after", contract)
        self.assertEqual((doc["status"], doc["version"], doc["rows_clean"]),
                         ("accepted", 1, rows))
        self.assertEqual(len(self.export_rows("after@1")), rows)
        for n in range(len(delays)):
            dataset = "big%d" % n
            before = self.datasets().get(dataset, {"versions": 0})["versions"]
            doc = self.ingest(big, dataset, contract)
            self.assertEqual(doc["version"], max(before, 1), doc)
            self.assertEqual(doc["reused"], before == 1)
        with sqlite3.connect(self.db_path(), timeout=30) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        db.close()


class BadInput(Workspace):
    def assertError(self, r, doc, code, *needles):
        self.assertEqual(r.returncode, 1, (doc, r.stderr))
        self.assertEqual(doc["error"]["code"], code, doc)
        err = r.stderr.decode(errors="replace")
        for n in needles:
            self.assertIn(n, doc["error"]["message"])
            self.assertIn(n, err)
        self.assertNotIn("internal error", err)

    def test_missing_source_file(self):
        missing = self.path("no-such.data")
        r, doc = self.mloop_json("ingest", missing, "--dataset", "adult")
        self.assertError(r, doc, "not_found", missing)
        # One missing file among good ones fails the whole batch.
        r, doc = self.mloop_json("ingest", ADULT_DATA, missing, "--dataset", "adult")
        self.assertError(r, doc, "not_found", missing)
        self.assertNotIn("adult", self.datasets())

    def test_glob_matching_nothing(self):
        pattern = self.path("nothing-*.csv")
        r, doc = self.mloop_json("ingest", pattern, "--dataset", "adult")
        self.assertError(r, doc, "not_found", pattern)
        self.assertEqual(self.datasets(), {})

    def test_empty_file(self):
        empty = self.write("empty.csv", b"")
        r, doc = self.mloop_json("ingest", empty, "--dataset", "adult", "--contract", CONTRACT)
        self.assertError(r, doc, "invalid_argument", empty)
        self.assertEqual(self.datasets().get("adult", {"versions": 0})["versions"], 0)

    def test_bad_dataset_names(self):
        for name in ("bad/name", "", "-leading", "a b", "x" * 129):
            r, doc = self.mloop_json("ingest", ADULT_DATA, "--dataset", name)
            self.assertError(r, doc, "invalid_argument", "dataset name")
        self.assertEqual(self.datasets(), {})

    def test_bad_references(self):
        r, doc = self.mloop_json("datasets", "show", "nope@1")
        self.assertError(r, doc, "not_found", "nope")
        self.ingest(ADULT_DATA, "adult", CONTRACT)
        r, doc = self.mloop_json("datasets", "show", "adult@2")
        self.assertError(r, doc, "not_found", "adult@2")
        for ref in ("adult@0", "adult@x"):
            r, doc = self.mloop_json("datasets", "show", ref)
            self.assertError(r, doc, "invalid_argument", ref)
        r, doc = self.mloop_json("datasets", "lineage", "nope@1")
        self.assertError(r, doc, "not_found", "nope")
        r, doc = self.mloop_json("datasets", "quarantine", "0123456789abcdef")
        self.assertEqual(r.returncode, 1, doc)
        self.assertEqual(doc["error"]["code"], "not_found", doc)

    def test_export_to_unsupported_extension_or_missing_folder(self):
        self.ingest(ADULT_DATA, "adult", CONTRACT)
        out = self.path("adult.parquet")
        r, doc = self.mloop_json("datasets", "export", "adult@1", "--output", out)
        self.assertError(r, doc, "invalid_argument", out)
        self.assertFalse(os.path.exists(out))
        out = self.path("no-such-folder/adult.csv")
        r, doc = self.mloop_json("datasets", "export", "adult@1", "--output", out)
        self.assertError(r, doc, "invalid_argument", out)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(glob.glob(self.path("*.csv*")), [])


if __name__ == "__main__":
    unittest.main()
