#!/usr/bin/python3
"""Compares mloop's linear estimators with scikit-learn's on Adult and Bike Sharing.

Runs train_test (env TRAIN_TEST) with MLOOP_LINEAR_REFERENCE_DIR set, which makes
LinearReferenceTest.WritesSklearnComparison (src/train/linear_trainer_reference_test.cc) fit
every case on the real data and write the float32 inputs (adult.csv: Adult's numeric columns,
standardized; bike.csv: Bike Sharing's hourly columns as they are), each case's estimator,
params and fitted coefficients (cases.json) and its predictions (NAME.pred.csv). This script
fits scikit-learn's LogisticRegression (binary on Adult's income, multinomial on its `race`),
LinearRegression, Ridge and ElasticNet on the very same float32 values (as float64), with the
same params and sample weights, and requires:
  - predictions within PRED_TOL * max(1, |scikit-learn's|) (probabilities: absolute 1e-6;
    counts of bikes: relative 1e-6);
  - coefficients and intercepts within COEF_TOL * max(1, |scikit-learn's|).
scikit-learn must reach the minimum too, so it runs with tight tolerances and a high max_iter,
and a ConvergenceWarning fails the case. For LogisticRegression that takes scikit-learn's Newton
solvers (newton-cholesky for binary, newton-cg for multinomial), which minimize the same
objective as the default lbfgs: lbfgs stops on its relative-decrease test (ftol = 64 eps) well
before the minimum whatever tol is given (on the multinomial case with its gradient's largest
component still ~0.2, probabilities off by up to 1e-4). The lbfgs fit is still run, and mloop's
objective must be no higher than lbfgs's.
Multinomial coefficients are compared after subtracting their mean over classes: adding a
constant to every class changes no probability, and both sides choose the sum-zero one only up
to rounding. Run by ctest (label e2e) with Debian's python3 and python3-sklearn; prints the
largest differences of every case.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LinearRegression, LogisticRegression, Ridge

PRED_TOL = 1e-6
COEF_TOL = 1e-5


def to_bool(text):
    return {"true": True, "false": False}[text]


def logistic(case, solver):
    p = case["params"]
    penalty = p.get("penalty", "l2")
    # newton-cg's tol bounds the largest gradient component of the summed objective; below
    # ~1e-8 it ends in rounding (a LineSearchWarning) instead of its test.
    return LogisticRegression(
        C=float(p.get("C", "1")), penalty=None if penalty == "none" else penalty,
        fit_intercept=to_bool(p.get("fit_intercept", "true")), solver=solver,
        tol=1e-7 if solver == "newton-cg" else 1e-10, max_iter=100000,
        multi_class="multinomial" if case["classes"] > 2 else "auto")


def logistic_objective(case, coef, intercept, x, y, w):
    """The objective of linear_trainer.h: C * sum_i w_i logloss_i (+ 0.5 ||coef||^2)."""
    p = case["params"]
    margins = x @ coef.T + intercept
    if case["classes"] == 2:
        m = margins[:, 0]
        loss = np.logaddexp(0, m) - y * m
    else:
        top = margins.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(margins - top).sum(axis=1))
        loss = lse - margins[np.arange(len(y)), y.astype(int)]
    f = float(p.get("C", "1")) * np.sum((1.0 if w is None else w) * loss)
    if p.get("penalty", "l2") == "l2":
        f += 0.5 * np.sum(coef * coef)
    return f


def sklearn_estimator(case):
    """scikit-learn's estimator for a case of cases.json, with the same params."""
    p = case["params"]
    fit_intercept = to_bool(p.get("fit_intercept", "true"))
    if case["type"] == "logistic":
        return logistic(case, "newton-cg" if case["classes"] > 2 else "newton-cholesky")
    if case["type"] == "linear":
        return LinearRegression(fit_intercept=fit_intercept)
    if case["type"] == "ridge":
        return Ridge(alpha=float(p.get("alpha", "1")), fit_intercept=fit_intercept)
    if case["type"] == "elastic_net":
        return ElasticNet(alpha=float(p.get("alpha", "1")), l1_ratio=float(p.get("l1_ratio", "0.5")),
                          fit_intercept=fit_intercept, tol=float(p.get("tol", "1e-4")),
                          max_iter=int(p.get("max_iter", "1000")))
    raise KeyError(case["type"])


def centered(a):
    """Multinomial coefficients less their mean over classes (axis 0)."""
    return a - a.mean(axis=0, keepdims=True)


class LinearAgainstSklearn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        env = dict(os.environ, MLOOP_LINEAR_REFERENCE_DIR=cls.dir.name)
        run = subprocess.run([os.environ["TRAIN_TEST"],
                              "--gtest_filter=LinearReferenceTest.WritesSklearnComparison"],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("train_test failed:\n" + run.stdout + run.stderr)
        with open(os.path.join(cls.dir.name, "cases.json")) as f:
            cls.cases = {c["name"]: c for c in json.load(f)}
        cls.data = {name: pd.read_csv(os.path.join(cls.dir.name, name + ".csv"), dtype=np.float64)
                    for name in ["adult", "bike"]}

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def check(self, name):
        case = self.cases[name]
        df = self.data[case["dataset"]]
        features = [c for c in df.columns if not c.startswith("label_") and c != "weight"]
        x = df[features].to_numpy()
        y = df["label_" + case["label"]].to_numpy()
        w = df["weight"].to_numpy() if case["weighted"] else None
        est = sklearn_estimator(case)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est.fit(x, y if case["type"] != "logistic" else y.astype(int), sample_weight=w)
        if case["type"] == "logistic":
            want_pred = est.predict_proba(x)
            if case["classes"] == 2:
                want_pred = want_pred[:, 1:]
        else:
            want_pred = est.predict(x).reshape(-1, 1)
        got_pred = pd.read_csv(os.path.join(self.dir.name, name + ".pred.csv"), header=None,
                               dtype=np.float64).to_numpy()
        self.assertEqual(got_pred.shape, want_pred.shape)

        want_coef = np.atleast_2d(est.coef_)
        want_intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
        if not to_bool(case["params"].get("fit_intercept", "true")):
            want_intercept = np.zeros(want_coef.shape[0])
        got_coef = np.asarray(case["coef"], dtype=float)
        got_intercept = np.asarray(case["intercept"], dtype=float)
        if case["classes"] > 2:
            want_coef, got_coef = centered(want_coef), centered(got_coef)
            want_intercept, got_intercept = centered(want_intercept), centered(got_intercept)
        self.assertEqual(got_coef.shape, want_coef.shape)

        def report(what, got, want, tol):
            diff = np.abs(got - want)
            scale = np.maximum(1.0, np.abs(want))
            worst = np.unravel_index(np.argmax(diff / scale), diff.shape)
            print(f"{name}: {what}: max abs diff {diff.max():.3g}, max diff / max(1, |want|) "
                  f"{(diff / scale).max():.3g}, max rel diff "
                  f"{(diff / np.maximum(np.abs(want), 1e-300)).max():.3g}", file=sys.stderr)
            self.assertTrue(np.all(diff <= tol * scale),
                            f"{name}: {what} differ at {worst}: mloop {got[worst]!r}, "
                            f"scikit-learn {want[worst]!r}")

        if case["type"] == "logistic":
            lbfgs = logistic(case, "lbfgs")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                lbfgs.fit(x, y.astype(int), sample_weight=w)
            ours = logistic_objective(case, got_coef, got_intercept, x, y, w)
            theirs = logistic_objective(case, np.atleast_2d(lbfgs.coef_),
                                        np.atleast_1d(lbfgs.intercept_), x, y, w)
            print(f"{name}: objective: mloop {ours!r}, scikit-learn lbfgs {theirs!r}",
                  file=sys.stderr)
            self.assertLessEqual(ours, theirs + 1e-12 * abs(theirs))

        report("predictions", got_pred, want_pred, PRED_TOL)
        report("coef", got_coef, want_coef, COEF_TOL)
        report("intercept", got_intercept, want_intercept, COEF_TOL)
        self.assertTrue(case["converged"], f"{name}: mloop did not converge")


def add_tests():
    # The cases LinearReferenceTest.WritesSklearnComparison writes; a name missing from
    # cases.json fails its test.
    for name in ["logistic_binary", "logistic_binary_weighted", "logistic_binary_none_noint",
                 "logistic_multinomial", "logistic_multinomial_weighted",
                 "logistic_multinomial_none", "linear", "linear_weighted", "ridge_weighted",
                 "ridge_noint", "elastic_net", "elastic_net_weighted", "elastic_net_adult_noint"]:
        setattr(LinearAgainstSklearn, "test_" + name, lambda self, n=name: self.check(n))


add_tests()

if __name__ == "__main__":
    unittest.main()
