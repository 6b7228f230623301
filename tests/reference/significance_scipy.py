#!/usr/bin/python3
"""Compares mloop's significance tests with statsmodels, SciPy and a numpy DeLong on Adult.

Runs stats_test (env STATS_TEST) with MLOOP_SIGNIFICANCE_REFERENCE_DIR set, which makes
SignificanceReferenceTest.WritesAdultResults write Adult's inputs (labels, numeric columns,
per-row correctness of three threshold classifiers, per-row log losses of two logistic scores)
and mloop's results; then recomputes every result here and requires agreement within 1e-9
relative (1e-15 absolute for values near 0; p-values compared relatively down to the smallest
double, both sides 0 when it underflows):
  - McNemar: statsmodels.stats.contingency_tables.mcnemar(exact=True / False,
    correction=True), on b and c counted here from the correctness columns;
  - the exact binomial test: scipy.stats.binomtest;
  - the paired t-test: scipy.stats.ttest_rel;
  - DeLong's test, which neither library has: the structural components of DeLong et al.
    (1988) computed pairwise (all positive x negative pairs) on up to 3,000 rows, and by
    searchsorted counts on all rows, with the AUCs checked against sklearn's roc_auc_score.
Run by ctest (label e2e) with Debian's python3, python3-scipy, python3-statsmodels and
python3-sklearn. Prints the largest relative difference of each test.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar

TOLERANCE = 1e-9
ABSOLUTE = 1e-15
PAIRWISE_LIMIT = 3000
WORST = {}


def relative_error(got, want):
    """|got - want| relative to |want| (NaN == NaN, inf == inf; 0 == 0)."""
    if np.isnan(want) or np.isnan(got):
        return 0.0 if np.isnan(want) and np.isnan(got) else np.inf
    if np.isinf(want) or np.isinf(got):
        return 0.0 if got == want else np.inf
    if want == got:
        return 0.0
    if abs(want) < ABSOLUTE and abs(got) < ABSOLUTE:
        return 0.0
    return abs(got - want) / abs(want)


def psi_pairwise(x, y):
    """psi(X_i, Y_j) for all pairs: 1 if x > y, 1/2 if equal, 0 otherwise."""
    d = x[:, None] - y[None, :]
    return (d > 0) + 0.5 * (d == 0)


def delong_components(labels, score, pairwise):
    """DeLong's V10 (per positive) and V01 (per negative) structural components."""
    x, y = score[labels == 1], score[labels == 0]
    if pairwise:
        psi = psi_pairwise(x, y)
        return psi.mean(axis=1), psi.mean(axis=0)
    ys, xs = np.sort(y), np.sort(x)
    v10 = (np.searchsorted(ys, x, "left") + 0.5 * (np.searchsorted(ys, x, "right") -
                                                     np.searchsorted(ys, x, "left"))) / len(y)
    v01 = (len(x) - np.searchsorted(xs, y, "right") +
           0.5 * (np.searchsorted(xs, y, "right") - np.searchsorted(xs, y, "left"))) / len(x)
    return v10, v01


def delong(labels, a, b, pairwise, confidence=0.95):
    """DeLong, DeLong & Clarke-Pearson (1988): the AUCs and the variance of their difference."""
    a10, a01 = delong_components(labels, a, pairwise)
    b10, b01 = delong_components(labels, b, pairwise)
    m, n = len(a10), len(a01)
    s10 = np.cov(np.vstack([a10, b10]))  # Divisor m - 1.
    s01 = np.cov(np.vstack([a01, b01]))
    s = s10 / m + s01 / n
    auc_a, auc_b = a10.mean(), b10.mean()
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    se = np.sqrt(max(var, 0.0))
    diff = auc_a - auc_b
    z = diff / se
    q = stats.norm.ppf(0.5 + 0.5 * confidence)
    return {"auc_a": auc_a, "auc_b": auc_b, "difference": diff, "std_error": se, "z": z,
            "p_value": 2 * stats.norm.sf(abs(z)), "ci_low": diff - q * se,
            "ci_high": diff + q * se}


class SignificanceAgainstScipy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        env = dict(os.environ, MLOOP_SIGNIFICANCE_REFERENCE_DIR=cls.dir.name)
        run = subprocess.run([os.environ["STATS_TEST"],
                              "--gtest_filter=SignificanceReferenceTest.WritesAdultResults"],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("stats_test failed:\n" + run.stdout + run.stderr)
        cls.inputs = pd.read_csv(os.path.join(cls.dir.name, "inputs.csv"))

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()
        for name, (err, where) in sorted(WORST.items()):
            print(f"{name}: largest relative difference {err:.3g} ({where})", file=sys.stderr)

    def read(self, name):
        return pd.read_csv(os.path.join(self.dir.name, name + ".csv"), keep_default_na=False,
                           na_values=["nan", "-nan"])

    def agree(self, test, field, got, want, where):
        err = relative_error(float(got), float(want))
        key = f"{test} {field}"
        if key not in WORST or err > WORST[key][0]:
            WORST[key] = (err, where)
        self.assertLessEqual(err, TOLERANCE,
                             f"{test} {field} at {where}: mloop {got!r}, reference {want!r}")

    def test_mcnemar(self):
        results = self.read("mcnemar")
        self.assertGreater(len(results), 0)
        used = set()
        for row in results.itertuples():
            a = self.inputs[row.a].to_numpy()[:row.rows]
            b = self.inputs[row.b].to_numpy()[:row.rows]
            n01 = int(np.sum((a == 1) & (b == 0)))
            n10 = int(np.sum((a == 0) & (b == 1)))
            exact = {"auto": n01 + n10 < 25, "exact": True, "chi2": False}[row.method]
            self.assertEqual(row.used, "mcnemar_exact" if exact else "mcnemar_chi2")
            used.add((row.method, row.used))
            where = f"{row.a} vs {row.b}, {row.rows} rows, {row.method}, b={n01} c={n10}"
            if n01 + n10 == 0:
                want_stat, want_p = 0.0, 1.0  # mloop's documented choice; statsmodels divides by 0.
            else:
                ref = mcnemar([[0, n01], [n10, 0]], exact=exact, correction=True)
                want_stat, want_p = ref.statistic, ref.pvalue
            self.agree("mcnemar_" + ("exact" if exact else "chi2"), "statistic", row.statistic,
                       want_stat, where)
            self.agree("mcnemar_" + ("exact" if exact else "chi2"), "p_value", row.p_value,
                       want_p, where)
        self.assertIn(("auto", "mcnemar_exact"), used)
        self.assertIn(("auto", "mcnemar_chi2"), used)

    def test_binomtest(self):
        results = self.read("binomtest")
        labels = self.inputs["label"].to_numpy()
        for row in results.itertuples():
            self.assertEqual(row.k, int(labels[:row.n].sum()))
            ref = stats.binomtest(int(row.k), int(row.n), float(row.p),
                                  alternative=row.alternative)
            where = f"k={row.k} n={row.n} p={row.p} {row.alternative}"
            self.agree("binomtest", "statistic", row.statistic, ref.statistic, where)
            self.agree("binomtest", "p_value", row.p_value, ref.pvalue, where)

    def test_ttest_rel(self):
        results = self.read("ttest")
        a = self.inputs["loss_age"].to_numpy()
        b = self.inputs["loss_education"].to_numpy()
        for row in results.itertuples():
            ref = stats.ttest_rel(a[:row.rows], b[:row.rows], alternative=row.alternative)
            where = f"{row.rows} rows {row.alternative}"
            self.agree("ttest_rel", "statistic", row.statistic, ref.statistic, where)
            self.agree("ttest_rel", "p_value", row.p_value, ref.pvalue, where)
            self.assertEqual(row.df, row.rows - 1)

    def test_delong(self):
        results = self.read("delong")
        labels = self.inputs["label"].to_numpy()
        fields = ["auc_a", "auc_b", "difference", "std_error", "z", "p_value", "ci_low",
                  "ci_high"]
        for row in results.itertuples():
            y = labels[:row.rows]
            a = self.inputs[row.a].to_numpy()[:row.rows]
            b = self.inputs[row.b].to_numpy()[:row.rows]
            where = f"{row.a} vs {row.b}, {row.rows} rows"
            self.agree("delong", "auc (sklearn)", row.auc_a, roc_auc_score(y, a), where)
            self.agree("delong", "auc (sklearn)", row.auc_b, roc_auc_score(y, b), where)
            methods = [("searchsorted", False)]
            if row.rows <= PAIRWISE_LIMIT:
                methods.append(("pairwise", True))
            for method, pairwise in methods:
                ref = delong(y, a, b, pairwise)
                for field in fields:
                    self.agree(f"delong_{method}", field, getattr(row, field), ref[field], where)


if __name__ == "__main__":
    unittest.main()
