"""The pandas peer of `mloop ingest` (bench/ingest): read a CSV file the way a data contract
says, apply the contract's checks, split the rows into clean and quarantined, profile the
clean rows, hash the source for the lineage and write them out durably, in one process.
Prints one JSON line with the counts (rows_in, rows_clean, rows_quarantined), the status
and the seconds spent.

    /usr/bin/python3 bench/peers/pandas_ingest.py SOURCE --contract FILE --out DIR

Run by Debian's /usr/bin/python3 with python3-pandas, python3-numpy and python3-yaml.
Written for the UCI Adult contract (src/data/testdata/adult_contract.yaml, docs/contracts.md)
and contracts like it: CSV without a header, int64/float64/string/category columns. The
column checks and table expectations are read from the contract; the row rules are
translated by hand (ROW_RULES below), and a rule whose expression is not in ROW_RULES is an
error, so an edited contract cannot silently lose a check here.

Semantics follow docs/contracts.md ("Validating a batch"):
  - a row the reader cannot parse (wrong number of fields, a value that does not fit a fixed
    int64/float64 type) is malformed and quarantined; rows_in = rows_clean + rows_quarantined;
  - column checks other than `nullable` see only non-null values; `mostly` is the share of
    non-null rows (of all rows for `nullable` and row rules) that must pass;
  - a row rule fails only when its expression is false (SQL CHECK: null passes);
  - a row failing any error-severity check goes to the quarantine, even when the check
    passes thanks to `mostly`; warn checks only count; without `mostly`, an error check
    passes (its rows are quarantined) and a warn check needs every row;
  - table expectations are measured exactly on the rows that stay (parsed, not
    quarantined); the batch is rejected when an error check or an error table expectation fails; `distribution` needs a
    stored version and is not evaluated (a fresh workspace has none).
Known differences from mloop, none of which the benchmark input (adult.data repeated) meets:
quarantine records carry the data row number, not the file line; text lengths are counted in
code points, not UTF-8 bytes; an int64 column holding "1.0" is accepted; a file whose every
line has extra fields is refused (pandas cannot say which lines lost data).

Outputs in DIR, each written to a temporary name, fsynced and renamed (like mloop's artifact
store): clean.pkl (the clean rows, a pickled DataFrame), quarantine.jsonl (one record per
quarantined row, with its reasons), profile.json and report.json. A rejected batch writes
only report.json and quarantine.jsonl. report.json names the source with its SHA-256, as
mloop's lineage does. Exit 0 accepted, 3 rejected, 1 on an error.
"""
import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import re
import sys
import time
import warnings

t_process = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
try:
    import yaml  # noqa: E402
except ImportError:
    sys.exit("pandas_ingest: needs PyYAML for the contract (Debian: apt-get install python3-yaml)")

INT_TYPES = {"int64", "int", "integer"}
FLOAT_TYPES = {"float64", "float", "double"}
TEXT_TYPES = {"string", "str", "text", "category"}
QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def known(s):
    return s.notna().to_numpy()


# The contract's row rules, translated by hand. Each returns a boolean array: True where the
# expression is FALSE (SQL three-valued logic: a null operand makes a comparison null, and a
# null rule passes). `a or b` is false when both are false; `x not in (...)` is false when x
# is non-null and in the list.
ROW_RULES = {
    "capital_loss <= capital_gain + 5000":
        lambda d: known(d.capital_loss) & known(d.capital_gain)
        & (d.capital_loss > d.capital_gain + 5000).to_numpy(),
    "capital_gain = 0 or capital_loss = 0":
        lambda d: (known(d.capital_gain) & (d.capital_gain != 0).to_numpy())
        & (known(d.capital_loss) & (d.capital_loss != 0).to_numpy()),
    "education_num >= 13 or education not in ('Bachelors', 'Masters', 'Doctorate')":
        lambda d: (known(d.education_num) & (d.education_num < 13).to_numpy())
        & (known(d.education)
           & d.education.isin(["Bachelors", "Masters", "Doctorate"]).to_numpy()),
}


def normalize_expression(text):
    return " ".join(text.split())


def mostly_of(raw):
    """`mostly` as written; left out: 0 for an error check (its rows are quarantined and the
    batch goes on), 1 for a warn check (docs/contracts.md)."""
    if isinstance(raw, dict) and "mostly" in raw:
        return float(raw["mostly"])
    severity = raw.get("severity", "error") if isinstance(raw, dict) else "error"
    return 0.0 if severity == "error" else 1.0


def check_spec(raw, default_value=None):
    """A check in its short (`min: 17`) or long (`min: {value: 17, mostly, severity}`) form."""
    if isinstance(raw, dict):
        return {"value": raw.get("value", default_value), "mostly": mostly_of(raw),
                "severity": raw.get("severity", "error"), "raw": raw}
    return {"value": raw, "mostly": 0.0, "severity": "error", "raw": raw}


def fsync_write(path, write):
    """Writes through write(file) to a temporary name, fsyncs, renames into place."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def to_jsonable(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


class Checks:
    """Accumulates check results and the error-severity failures that quarantine rows."""

    def __init__(self, n):
        self.n = n
        self.results = []
        self.quarantine_mask = np.zeros(n, dtype=bool)
        self.error_failures = []  # (check, column, rule, mask) for quarantine reasons

    def row(self, check, column, spec, fail, elements, rule=None, expectation=""):
        unexpected = int(fail.sum())
        passed = elements == 0 or 1.0 - unexpected / elements >= spec["mostly"]
        self.results.append({"check": check, "column": column, "rule": rule, "level": "row",
                             "severity": spec["severity"], "mostly": spec["mostly"],
                             "passed": bool(passed), "element_count": int(elements),
                             "unexpected_count": unexpected, "expectation": expectation})
        if spec["severity"] == "error" and unexpected:
            self.quarantine_mask |= fail
            self.error_failures.append((check, column, rule, fail))

    def table(self, check, column, severity, passed, observed, expectation, rule=None):
        self.results.append({"check": check, "column": column, "rule": rule, "level": "table",
                             "severity": severity, "passed": passed,
                             "observed_value": to_jsonable(observed),
                             "expectation": expectation})


def in_range(rng, observed):
    if observed is None or (isinstance(observed, float) and math.isnan(observed)):
        return False
    lo, hi = rng.get("min"), rng.get("max")
    return (lo is None or observed >= lo) and (hi is None or observed <= hi)


def range_text(rng):
    lo, hi = rng.get("min"), rng.get("max")
    if lo is not None and hi is not None:
        return f"in [{lo}, {hi}]"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def read(source, contract):
    """Reads SOURCE as the contract's format says. Returns (frame of parsed rows, number of
    malformed rows, their file line numbers where known, the malformed records' texts)."""
    fmt = contract.get("format") or {}
    columns = contract.get("columns") or {}
    if fmt.get("header", False):
        raise SystemExit("pandas_ingest: only header: false is supported")
    names = fmt["names"]
    dtype = {}
    for name, spec in columns.items():
        t = (spec or {}).get("type")
        if t == "category":
            dtype[name] = "category"
        elif t in ("string", "str", "text"):
            dtype[name] = str
        elif t is not None and t not in INT_TYPES | FLOAT_TYPES:
            raise SystemExit(f"pandas_ingest: type {t} of column {name} is not supported")
    null_values = fmt.get("null_values",
                          ["", "NA", "N/A", "NULL", "null", "NaN", "nan", "None", "?"])
    quote = fmt.get("quote", '"')
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        df = pd.read_csv(source, header=None, names=names, index_col=False,
                         sep=fmt.get("delimiter", ","),
                         skipinitialspace=fmt.get("skip_initial_space", True),
                         na_values=null_values, keep_default_na=False,
                         comment=fmt.get("comment") or None,
                         quotechar=quote or '"', quoting=3 if quote == "" else 0,
                         skiprows=fmt.get("skip_lines", 0), dtype=dtype,
                         on_bad_lines="warn", encoding="utf-8",
                         memory_map=True)  # measured faster than reading the file here
    if any("loss of data" in str(w.message) for w in caught):
        raise SystemExit("pandas_ingest: lines have more fields than names; refusing to guess")
    bad_lines = [int(m) for m in re.findall(r"Skipping line (\d+)", err.getvalue())]

    # Values that do not fit a fixed numeric type make their row malformed. A column read as
    # int64 is clean; otherwise look at the text.
    bad = np.zeros(len(df), dtype=bool)
    texts = {}  # The text of columns converted here, for the quarantine records.
    for name, spec in columns.items():
        t = (spec or {}).get("type")
        if t not in INT_TYPES | FLOAT_TYPES:
            continue
        s = df[name]
        if t in INT_TYPES and s.dtype == np.int64:
            continue
        if t in FLOAT_TYPES and s.dtype.kind in "fi":
            df[name] = s.astype(np.float64)
            continue
        if s.dtype.kind == "f":  # int64 column with nulls (or decimals): integral values only
            frac = known(s) & (np.floor(s.to_numpy()) != s.to_numpy())
            bad |= frac
            continue
        raw = s.astype(object)
        present = raw.notna().to_numpy()
        pattern = (r"\s*[+-]?\d+\s*" if t in INT_TYPES else
                   r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*|\s*[+-]?(inf|nan)\s*")
        fits = raw.astype(str).str.fullmatch(pattern, case=False).to_numpy(dtype=bool) & present
        bad |= present & ~fits
        num = pd.to_numeric(raw.where(fits), errors="coerce")
        if t in INT_TYPES:
            bad |= fits & ~(num.abs() < 2.0**63).to_numpy()
        texts[name] = raw
        df[name] = num
    bad_texts = []
    if bad.any():
        records = df[bad].astype(object).assign(**{k: v[bad] for k, v in texts.items()})
        records = records.to_dict("records")
        bad_texts = [{"row": int(i), "values": {k: to_jsonable(v) for k, v in r.items()}}
                     for i, r in zip(np.flatnonzero(bad), records)]
        df = df[~bad].reset_index(drop=True)
    return df, len(bad_lines) + int(bad.sum()), bad_lines, bad_texts


def text_lengths(s):
    """Lengths of a text column's values (NaN for nulls), computed per category when it is one."""
    return s.str.len().astype(np.float64)


def column_checks(df, contract, checks):
    for name, spec in (contract.get("columns") or {}).items():
        spec = spec or {}
        s = df[name]
        present = known(s)
        nonnull = int(present.sum())
        if spec.get("nullable", True) is False:
            checks.row("nullable", name, check_spec(None), ~present, len(s),
                       expectation="not null")
        for key, op in (("min", ">="), ("max", "<="), ("exclusive_min", ">"),
                        ("exclusive_max", "<")):
            if key in spec:
                c = check_spec(spec[key])
                v = c["value"]
                fail = {"min": s < v, "max": s > v, "exclusive_min": s <= v,
                        "exclusive_max": s >= v}[key].to_numpy() & present
                checks.row(key, name, c, fail, nonnull, expectation=f"{op} {v}")
        if "allowed" in spec:
            c = check_spec(spec["allowed"])
            fail = present & ~s.isin(c["value"]).to_numpy()
            checks.row("allowed", name, c, fail, nonnull,
                       expectation=f"one of {len(c['value'])} allowed values")
        if "pattern" in spec:
            c = check_spec(spec["pattern"])
            with warnings.catch_warnings():  # "has match groups": we want a match, not groups
                warnings.simplefilter("ignore", UserWarning)
                matches = s.str.contains(c["value"], regex=True, na=False).to_numpy(dtype=bool)
            checks.row("pattern", name, c, present & ~matches, nonnull,
                       expectation=f"matches {c['value']}")
        if "length" in spec:
            raw = spec["length"]
            c = {"value": None, "mostly": mostly_of(raw),
                 "severity": raw.get("severity", "error")}
            lengths = text_lengths(s)
            fail = np.zeros(len(s), dtype=bool)
            if raw.get("min") is not None:
                fail |= (lengths < raw["min"]).to_numpy()
            if raw.get("max") is not None:
                fail |= (lengths > raw["max"]).to_numpy()
            checks.row("length", name, c, fail & present, nonnull,
                       expectation=f"length {range_text(raw)}")
        if spec.get("unique") not in (None, False):
            c = check_spec(spec["unique"], default_value=True)
            fail = present & s.duplicated(keep="first").to_numpy()
            checks.row("unique", name, c, fail, nonnull, expectation="unique")


def row_rules(df, contract, checks):
    for rule in contract.get("rows") or []:
        text = normalize_expression(rule["expression"])
        if text not in ROW_RULES:
            raise SystemExit(f"pandas_ingest: no pandas translation of row rule "
                             f"{rule['name']}: {text}")
        fail = ROW_RULES[text](df)
        c = {"mostly": mostly_of(rule), "severity": rule.get("severity", "error")}
        checks.row("row_rule", None, c, fail, len(df), rule=rule["name"], expectation=text)


def table_expectations(df, contract, checks, rows_in, rows_quarantined):
    te = contract.get("table") or {}
    sev = lambda spec: spec.get("severity", "error") if isinstance(spec, dict) else "error"  # noqa
    if "row_count" in te:
        r = te["row_count"]
        checks.table("row_count", None, sev(r), in_range(r, rows_in), rows_in, range_text(r))
    names = list(df.columns)
    if "columns_exact" in te:
        want = te["columns_exact"]
        want = want.get("value", want) if isinstance(want, dict) else want
        checks.table("columns_exact", None, sev(te["columns_exact"]), names == want, names,
                     "exactly " + ", ".join(want))
    if "columns_include" in te:
        want = te["columns_include"]
        want = want.get("value", want) if isinstance(want, dict) else want
        checks.table("columns_include", None, sev(te["columns_include"]),
                     all(w in names for w in want), names, "includes " + ", ".join(want))
    for item in te.get("unique_together") or []:
        cols = item["columns"] if isinstance(item, dict) else item
        dup = int(df.duplicated(subset=cols, keep="first").sum())
        checks.table("unique_together", None, sev(item), dup == 0, dup,
                      "unique (" + ", ".join(cols) + ")")
    for name, ce in (te.get("columns") or {}).items():
        s = df[name]
        values = s.dropna()
        if "null_share" in ce:
            r = ce["null_share"]
            share = float(s.isna().mean()) if len(s) else 0.0
            checks.table("null_share", name, sev(r), in_range(r, share), share, range_text(r))
        for key, fn in (("mean", lambda v: v.mean()), ("std", lambda v: v.std(ddof=1)),
                        ("min", lambda v: v.min()), ("max", lambda v: v.max())):
            if key in ce:
                r = ce[key]
                obs = float(fn(values)) if len(values) else float("nan")
                checks.table(key if key in ("mean", "std") else "column_" + key, name, sev(r),
                             in_range(r, obs), obs, range_text(r))
        for q in ce.get("quantiles") or []:
            obs = float(values.quantile(q["q"])) if len(values) else float("nan")
            checks.table("quantile", name, q.get("severity", "error"), in_range(q, obs), obs,
                         range_text(q), rule=f"q={q['q']}")
        if "distinct" in ce:
            r = ce["distinct"]
            obs = int(values.nunique())
            checks.table("distinct", name, sev(r), in_range(r, obs), obs, range_text(r))
    if "quarantine_share" in te:
        r = te["quarantine_share"]
        share = rows_quarantined / rows_in if rows_in else 0.0
        checks.table("quarantine_share", None, sev(r), in_range(r, share), share, range_text(r))
    if "distribution" in te:
        d = te["distribution"]
        cols = d.get("columns") or ([d["column"]] if "column" in d else [])
        checks.table("distribution", ", ".join(cols), d.get("severity", "error"), None,
                     "not evaluated: no stored dataset version to compare with",
                     f"PSI <= {d.get('psi_max', 0.2)} against {d['reference']}")


def profile(df):
    """What df.describe() plus nunique and value_counts give, column by column: count,
    nulls, distinct, and for numbers min, max, mean, std, sum, zeros, quantiles and a
    64-bin histogram; for text the top 64 values and lengths."""
    columns = []
    for name in df.columns:
        s = df[name]
        values = s.dropna()
        p = {"name": name, "type": str(s.dtype), "count": int(len(s)),
             "nulls": int(len(s) - len(values)),
             "null_fraction": float(1 - len(values) / len(s)) if len(s) else 0.0,
             "distinct": int(values.nunique())}
        if s.dtype.kind in "if":
            quantiles = values.quantile(QUANTILES)
            p.update({"min": to_jsonable(values.min()), "max": to_jsonable(values.max()),
                      "mean": to_jsonable(values.mean()), "std": to_jsonable(values.std()),
                      "variance": to_jsonable(values.var()), "sum": to_jsonable(values.sum()),
                      "zeros": int((values == 0).sum()),
                      "quantiles": {f"p{round(q * 100):02d}": to_jsonable(v)
                                    for q, v in quantiles.items()}})
            if len(values):
                counts, edges = np.histogram(values.to_numpy(), bins=64)
                p["histogram"] = [{"lower": float(edges[i]), "upper": float(edges[i + 1]),
                                   "count": int(counts[i])} for i in range(len(counts))]
        else:
            vc = values.value_counts()
            vc = vc[vc > 0]
            lengths = text_lengths(values)
            p.update({"top_k": [{"value": str(k), "count": int(v)}
                                for k, v in vc.head(64).items()],
                      "min_length": to_jsonable(lengths.min()),
                      "max_length": to_jsonable(lengths.max()),
                      "mean_length": to_jsonable(lengths.mean()),
                      "empty_count": int((values == "").sum())})
        columns.append(p)
    return {"rows": int(len(df)), "columns": columns}


def quarantine_records(df, checks, bad_lines, bad_texts, source):
    records = []
    rows = np.flatnonzero(checks.quarantine_mask)
    if len(rows):
        values = df.iloc[rows].astype(object).to_dict("records")
        for i, (row, vals) in enumerate(zip(rows, values)):
            reasons = [{"check": c, "column": col, "rule": rule} for c, col, rule, mask
                       in checks.error_failures if mask[row]]
            records.append({"row": int(row), "reasons": reasons,
                            "values": {k: to_jsonable(v) for k, v in vals.items()}})
    if bad_lines:
        wanted = set(bad_lines)
        with open(source, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if number in wanted:
                    records.append({"line": number, "text": line.rstrip("\n"),
                                    "reasons": [{"check": "malformed", "column": None}]})
    for rec in bad_texts:
        records.append({"row": rec["row"], "values": rec["values"],
                        "reasons": [{"check": "malformed", "column": None}]})
    return records


def file_sha256(path):
    """The SHA-256 of the file at `path`, streamed (hashlib: OpenSSL's)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("--contract", required=True)
    ap.add_argument("--out", required=True, help="folder for the outputs (created)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    phases = {}

    with open(args.contract, encoding="utf-8") as f:
        contract = yaml.safe_load(f)
    df, malformed, bad_lines, bad_texts = read(args.source, contract)
    t1 = time.perf_counter()
    phases["read"] = t1 - t0

    rows_parsed = len(df)
    rows_in = rows_parsed + malformed
    checks = Checks(rows_parsed)
    column_checks(df, contract, checks)
    row_rules(df, contract, checks)
    checks.results.append({"check": "malformed", "column": None, "rule": None, "level": "row",
                           "severity": "error", "mostly": 0.0, "passed": True,
                           "element_count": rows_in, "unexpected_count": malformed,
                           "expectation": "well-formed records"})
    rows_quarantined = int(checks.quarantine_mask.sum()) + malformed
    rows_clean = rows_in - rows_quarantined
    clean = df[~checks.quarantine_mask] if checks.quarantine_mask.any() else df
    # Table expectations are measured on the rows that stay (docs/contracts.md).
    table_expectations(clean, contract, checks, rows_in, rows_quarantined)
    rejected = any(c["severity"] == "error" and c["passed"] is False for c in checks.results)
    status = "rejected" if rejected else "accepted"

    t2 = time.perf_counter()
    phases["check"] = t2 - t1

    prof = profile(clean)
    t3 = time.perf_counter()
    phases["profile"] = t3 - t2

    # The source's digest, for the lineage: mloop records each source's SHA-256 with the
    # version (and answers a second ingest of the same bytes with it), so the peer hashes the
    # file too, as a pandas pipeline that versions its data (DVC, say) would.
    digest = file_sha256(args.source)
    t_hash = time.perf_counter()
    phases["hash"] = t_hash - t3

    os.makedirs(args.out, exist_ok=True)
    quarantine = quarantine_records(df, checks, bad_lines, bad_texts, args.source)
    fsync_write(os.path.join(args.out, "quarantine.jsonl"), lambda f: f.write(
        "".join(json.dumps(r) + "\n" for r in quarantine).encode()))
    if status == "accepted":
        fsync_write(os.path.join(args.out, "clean.pkl"),
                    lambda f: clean.reset_index(drop=True).to_pickle(f))
        fsync_write(os.path.join(args.out, "profile.json"),
                    lambda f: f.write(json.dumps(prof).encode()))
    report = {"status": status, "source": args.source, "source_sha256": digest,
              "rows_in": rows_in,
              "rows_clean": rows_clean, "rows_quarantined": rows_quarantined,
              "checks": checks.results}
    fsync_write(os.path.join(args.out, "report.json"),
                lambda f: f.write(json.dumps(report).encode()))
    t4 = time.perf_counter()
    phases["write"] = t4 - t_hash

    print(json.dumps({
        "status": status, "rows_in": rows_in, "rows_clean": rows_clean,
        "rows_quarantined": rows_quarantined, "malformed": malformed,
        "failed_checks": [" ".join(x for x in (c["severity"], c["check"], c["column"], c["rule"])
                                   if x) for c in checks.results if c["passed"] is False],
        "seconds": t4 - t0, "import_seconds": t0 - t_process,
        "phases": phases, "pandas": pd.__version__}))
    return 3 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
