#!/usr/bin/python3
"""Compares mloop's evaluation metrics with scikit-learn's, and its fairness values with
Fairlearn's definitions, on real data.

Writes labels, scores and weights to a temporary folder: a logistic regression on Adult's
numeric columns (binary: income > 50K, sample weights fnlwgt / its mean; multiclass: race),
and a linear regression of Bike Sharing's hourly count. Then runs eval_test (env EVAL_TEST)
with MLOOP_EVAL_REFERENCE_DIR set, which makes ReferenceTest.WritesReportsForScikitLearn
compute every report on those files and write results.json, and requires every value to
agree with scikit-learn 1.2 (Debian's python3-sklearn) within 1e-9 relative (1e-12 absolute
floor). Scores are rounded to float32 before both sides see them, as mloop holds predictions.

Fairlearn is not in Debian: its metrics are written here from its documentation and source
(selection_rate; true/false_positive_rate through scikit-learn's
confusion_matrix(normalize="true"), so 0/0 is 0; "between_groups" differences max - min and
ratios min / max), with AIF360's disparate impact, for the sensitive columns sex and race.

Known, documented differences (src/eval/metrics.h):
  - log_loss is compared with eps=1e-15; scikit-learn 1.2's default eps="auto" clips at the
    dtype's epsilon instead.
  - calibration_curve takes no weights and drops empty bins; the weighted reliability curve is
    checked against the same binning in numpy.
"""
import json
import os
import subprocess
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd
import yaml
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
RELATIVE = 1e-9
ABSOLUTE = 1e-12
BINARY_METRICS = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
                  "average_precision", "log_loss", "brier", "expected_calibration_error"]
MULTICLASS_METRICS = ["accuracy", "log_loss", "roc_auc"] + [
    f"{m}_{a}" for a in ["macro", "micro", "weighted"] for m in ["precision", "recall", "f1"]]
REGRESSION_METRICS = ["rmse", "mse", "mae", "r2", "mape", "median_absolute_error", "max_error",
                      "explained_variance"]


def read_adult():
    with open(os.path.join(ROOT, "src/data/testdata/adult_contract.yaml")) as f:
        names = yaml.safe_load(f)["format"]["names"]
    path = os.path.join(os.environ["MLOOP_DATASETS_DIR"], "adult", "adult.data")
    return pd.read_csv(path, header=None, names=names, na_values=["?"], keep_default_na=False,
                       skipinitialspace=True)


def f32(values):
    """As float64 holding float32 values: what mloop sees after parsing the files."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def fmt(values):
    return [repr(float(v)) for v in values]


def prepare(directory):
    """Writes binary.csv, multiclass.csv and regression.csv; returns their float64 contents."""
    adult = read_adult()
    x = StandardScaler().fit_transform(adult[NUMERIC].to_numpy(dtype=float))
    y = (adult["income"].str.strip() == ">50K").to_numpy(dtype=float)
    p = f32(LogisticRegression(max_iter=1000).fit(x, y).predict_proba(x)[:, 1])
    w = f32(adult["fnlwgt"] / adult["fnlwgt"].mean())
    binary = pd.DataFrame({"label": y, "p": fmt(p), "w": fmt(w), "sex": adult["sex"],
                           "race": adult["race"]})
    binary.to_csv(os.path.join(directory, "binary.csv"), index=False)

    classes = sorted(adult["race"].unique())
    ym = adult["race"].map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=float)
    xm = np.column_stack([x, (adult["sex"] == "Male").to_numpy(dtype=float)])
    pm = f32(LogisticRegression(max_iter=1000).fit(xm, ym).predict_proba(xm))
    multi = pd.DataFrame({"label": ym, "w": fmt(w)})
    for c in range(len(classes)):
        multi[f"p{c}"] = fmt(pm[:, c])
    multi.to_csv(os.path.join(directory, "multiclass.csv"), index=False)

    bike = pd.read_csv(os.path.join(os.environ["MLOOP_DATASETS_DIR"], "bike_sharing", "hour.csv"))
    features = ["season", "hr", "holiday", "workingday", "weathersit", "temp", "atemp", "hum",
                "windspeed"]
    yr = f32(bike["cnt"])
    fr = f32(LinearRegression().fit(bike[features], yr).predict(bike[features]))
    wr = f32(0.5 + bike["hum"])
    regression = pd.DataFrame({"label": fmt(yr), "prediction": fmt(fr), "w": fmt(wr),
                               "temp": fmt(bike["temp"])})
    regression.to_csv(os.path.join(directory, "regression.csv"), index=False)
    return {"y": y, "p": p, "w": w, "sex": adult["sex"].to_numpy(),
            "race": adult["race"].to_numpy(), "ym": ym, "pm": pm, "classes": len(classes),
            "yr": yr, "fr": fr, "wr": wr, "temp": bike["temp"].to_numpy(dtype=float)}


# --- The expected values ---------------------------------------------------------------------

def expected_binary(y, p, w, threshold):
    yhat = (p >= threshold).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division="warn": 0 and a warning, as mloop.
        out = {
            "accuracy": skm.accuracy_score(y, yhat, sample_weight=w),
            "balanced_accuracy": skm.balanced_accuracy_score(y, yhat, sample_weight=w),
            "precision": skm.precision_score(y, yhat, sample_weight=w),
            "recall": skm.recall_score(y, yhat, sample_weight=w),
            "f1": skm.f1_score(y, yhat, sample_weight=w),
            "roc_auc": skm.roc_auc_score(y, p, sample_weight=w),
            "average_precision": skm.average_precision_score(y, p, sample_weight=w),
            "log_loss": skm.log_loss(y, p, eps=1e-15, sample_weight=w),
            "brier": skm.brier_score_loss(y, p, sample_weight=w),
        }
    tn, fp, fn, tp = skm.confusion_matrix(y, yhat, labels=[0, 1], sample_weight=w).ravel()
    confusion = {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    # calibration_curve's uniform binning, with weights where given.
    ww = np.ones_like(p) if w is None else w
    bins = np.searchsorted(np.linspace(0.0, 1.0, 11)[1:-1], p)
    count = np.bincount(bins, minlength=10)
    weight = np.bincount(bins, weights=ww, minlength=10)
    nonzero = weight > 0
    mean_pred = np.bincount(bins, weights=ww * p, minlength=10)[nonzero] / weight[nonzero]
    frac_pos = np.bincount(bins, weights=ww * y, minlength=10)[nonzero] / weight[nonzero]
    if w is None:
        prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
        assert np.allclose(prob_true, frac_pos, rtol=1e-12) and np.allclose(prob_pred, mean_pred,
                                                                             rtol=1e-12)
        mean_pred, frac_pos = prob_pred, prob_true
    out["expected_calibration_error"] = float(
        np.sum(weight[nonzero] / ww.sum() * np.abs(frac_pos - mean_pred)))
    return out, confusion, {"count": count, "weight": weight, "mean_predicted": mean_pred,
                            "fraction_positive": frac_pos}


def best_over_thresholds(y, p, w, objective):
    """The largest value of `objective` over thresholds at the distinct scores (numpy)."""
    ww = np.ones_like(p) if w is None else w
    order = np.argsort(-p, kind="mergesort")
    ps, ys, ws = p[order], y[order], ww[order]
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]
    tp = np.cumsum(ys * ws)[last]
    fp = np.cumsum((1 - ys) * ws)[last]
    pos, neg = np.sum(ys * ws), np.sum((1 - ys) * ws)
    fn, tn = pos - tp, neg - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(pos > 0, tp / pos, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    values = {"accuracy": (tp + tn) / (pos + neg), "balanced_accuracy": (recall + tn / neg) / 2,
              "precision": precision, "recall": recall, "f1": f1}[objective]
    return float(values.max()), set(ps[last].tolist())


def fairlearn_group(y, yhat, w):
    """Fairlearn's selection_rate, true_positive_rate, false_positive_rate and accuracy."""
    s_w = np.ones(len(y)) if w is None else w
    cm = skm.confusion_matrix(y, yhat, labels=[0, 1], sample_weight=w, normalize="true")
    tnr, fpr, fnr, tpr = cm.ravel()
    return {"count": len(y), "weight": float(s_w.sum()),
            "selection_rate": float(np.dot(yhat == 1, s_w) / s_w.sum()),
            "true_positive_rate": tpr, "false_positive_rate": fpr,
            "accuracy": skm.accuracy_score(y, yhat, sample_weight=w)}


def expected_fairness(y, p, w, sensitive, threshold, privileged_names):
    yhat = (p >= threshold).astype(float)
    names = list(dict.fromkeys(sensitive))  # First appearance, as mloop's GroupsByValue.
    groups = {}
    for name in names:
        m = sensitive == name
        groups[name] = fairlearn_group(y[m], yhat[m], None if w is None else w[m])

    def between(rate):
        v = np.array([g[rate] for g in groups.values()])
        return v.max() - v.min(), (v.min() / v.max() if v.max() > 0 else np.nan)

    dp, tpr, fpr = between("selection_rate"), between("true_positive_rate"), between(
        "false_positive_rate")
    ww = np.ones_like(p) if w is None else w
    priv = np.isin(sensitive, privileged_names)
    priv_rate = np.dot(yhat[priv], ww[priv]) / ww[priv].sum()
    by_group = {n: groups[n]["selection_rate"] / priv_rate for n in names
                if n not in privileged_names}
    pooled = np.dot(yhat[~priv], ww[~priv]) / ww[~priv].sum() / priv_rate
    return {
        "groups": groups,
        "demographic_parity_difference": dp[0], "demographic_parity_ratio": dp[1],
        "equal_opportunity_difference": tpr[0], "equal_opportunity_ratio": tpr[1],
        "equalized_odds_difference": max(tpr[0], fpr[0]),
        "equalized_odds_ratio": min(tpr[1], fpr[1]),
        "disparate_impact": {"by_group": by_group, "min": min(by_group.values()),
                             "pooled": pooled},
    }


def expected_multiclass(y, pm, w, k):
    yhat = pm.argmax(axis=1).astype(float)
    labels = list(range(k))
    out = {
        "accuracy": skm.accuracy_score(y, yhat, sample_weight=w),
        "log_loss": skm.log_loss(y, pm, eps=1e-15, sample_weight=w, labels=labels),
        "roc_auc": skm.roc_auc_score(y, pm, multi_class="ovr", average="macro",
                                     sample_weight=w, labels=labels),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for average in ["macro", "micro", "weighted"]:
            precision, recall, f1, _ = skm.precision_recall_fscore_support(
                y, yhat, average=average, sample_weight=w)
            out[f"precision_{average}"] = precision
            out[f"recall_{average}"] = recall
            out[f"f1_{average}"] = f1
        per_class = skm.precision_recall_fscore_support(y, yhat, average=None, labels=labels,
                                                        sample_weight=w)
    confusion = skm.confusion_matrix(y, yhat, labels=labels, sample_weight=w)
    return out, per_class, confusion


def expected_regression(y, f, w):
    return {
        "rmse": skm.mean_squared_error(y, f, sample_weight=w, squared=False),
        "mse": skm.mean_squared_error(y, f, sample_weight=w),
        "mae": skm.mean_absolute_error(y, f, sample_weight=w),
        "r2": skm.r2_score(y, f, sample_weight=w),
        "mape": skm.mean_absolute_percentage_error(y, f, sample_weight=w),
        "median_absolute_error": skm.median_absolute_error(y, f, sample_weight=w),
        "max_error": skm.max_error(y, f),
        "explained_variance": skm.explained_variance_score(y, f, sample_weight=w),
    }


# --- The comparison --------------------------------------------------------------------------

class EvalAgainstSklearn(unittest.TestCase):
    worst = 0.0  # The largest relative difference seen, printed at the end.

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.data = prepare(cls.dir.name)
        env = dict(os.environ, MLOOP_EVAL_REFERENCE_DIR=cls.dir.name)
        run = subprocess.run([os.environ["EVAL_TEST"],
                              "--gtest_filter=ReferenceTest.DISABLED_WritesReportsForScikitLearn",
                              "--gtest_also_run_disabled_tests"],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0 or "[  SKIPPED ]" in run.stdout:
            raise RuntimeError("eval_test failed:\n" + run.stdout + run.stderr)
        with open(os.path.join(cls.dir.name, "results.json")) as f:
            cls.results = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()
        print(f"\nlargest relative difference from scikit-learn: {cls.worst:.3g}")

    def close(self, got, want, what):
        want = float(want)
        self.assertIsNotNone(got, f"{what}: mloop gives null, scikit-learn {want!r}")
        diff = abs(float(got) - want)
        EvalAgainstSklearn.worst = max(EvalAgainstSklearn.worst, diff / max(abs(want), 1e-300))
        self.assertLessEqual(diff, RELATIVE * abs(want) + ABSOLUTE,
                             f"{what}: mloop {got!r}, scikit-learn {want!r}")

    def check_binary(self, report, y, p, w, what):
        self.assertEqual(list(report["metrics"]), BINARY_METRICS, what)
        self.assertEqual(report["rows"], len(y))
        want, confusion, calibration = expected_binary(y, p, w, report["threshold"])
        for name in BINARY_METRICS:
            self.close(report["metrics"][name], want[name], f"{what}: {name}")
        for name, value in confusion.items():
            self.close(report["confusion_matrix"][name], value, f"{what}: confusion {name}")
        bins = report["calibration"]
        self.assertEqual([b["count"] for b in bins], calibration["count"].tolist(), what)
        filled = [b for b in bins if b["weight"] > 0]
        for name in ["mean_predicted", "fraction_positive"]:
            for b, value in zip(filled, calibration[name], strict=True):
                self.close(b[name], value, f"{what}: calibration {name} [{b['lower']}, ..)")
        for b, value in zip(bins, calibration["weight"]):
            self.close(b["weight"], value, f"{what}: calibration weight")

    def test_binary(self):
        d = self.data
        self.check_binary(self.results["binary"], d["y"], d["p"], None, "binary")
        self.assertEqual(self.results["binary"]["warnings"], [])

    def test_binary_weighted(self):
        d = self.data
        self.check_binary(self.results["binary_weighted"], d["y"], d["p"], d["w"],
                          "binary weighted")

    def test_binary_other_threshold(self):
        d = self.data
        report = self.results["binary_threshold_0.3"]
        self.assertEqual(report["threshold"], 0.3)
        self.check_binary(report, d["y"], d["p"], None, "binary at 0.3")

    def test_chosen_thresholds(self):
        d = self.data
        for key, w in [("binary_chosen", None), ("binary_chosen_weighted", d["w"])]:
            for objective, report in self.results[key].items():
                what = f"{key} by {objective}"
                self.assertEqual(report["threshold_objective"], objective)
                best, thresholds = best_over_thresholds(d["y"], d["p"], w, objective)
                self.assertIn(report["threshold"], thresholds, what)
                self.close(report["metrics"][objective], best, what + ": the maximum")
                self.check_binary(report, d["y"], d["p"], w, what)

    def test_multiclass(self):
        d = self.data
        for key, w in [("multiclass", None), ("multiclass_weighted", d["w"])]:
            report = self.results[key]
            self.assertEqual(list(report["metrics"]), MULTICLASS_METRICS)
            want, per_class, confusion = expected_multiclass(d["ym"], d["pm"], w, d["classes"])
            for name in MULTICLASS_METRICS:
                self.close(report["metrics"][name], want[name], f"{key}: {name}")
            for c, row in enumerate(report["per_class"]):
                for i, name in enumerate(["precision", "recall", "f1", "support"]):
                    self.close(row[name], per_class[i][c], f"{key}: class {c} {name}")
            for t, row in enumerate(confusion):
                for q, value in enumerate(row):
                    self.close(report["confusion_matrix"][t][q], value, f"{key}: confusion")

    def test_regression(self):
        d = self.data
        for key, w in [("regression", None), ("regression_weighted", d["wr"])]:
            report = self.results[key]
            self.assertEqual(list(report["metrics"]), REGRESSION_METRICS)
            want = expected_regression(d["yr"], d["fr"], w)
            for name in REGRESSION_METRICS:
                self.close(report["metrics"][name], want[name], f"{key}: {name}")

    def test_slices(self):
        d = self.data
        for column in ["sex", "race"]:
            slices = self.results["slices"][column]
            names = list(dict.fromkeys(d[column]))
            self.assertEqual([s["slice"] for s in slices], names)
            for s in slices:
                m = d[column] == s["slice"]
                self.check_binary(s, d["y"][m], d["p"][m], d["w"][m], f"slice {column}={s['slice']}")
        # Quartiles of Bike Sharing's temp (np.quantile, linear), weighted regression metrics.
        edges = np.unique(np.quantile(d["temp"], [0.25, 0.5, 0.75]))
        bucket = np.searchsorted(edges, d["temp"], side="right")
        slices = self.results["regression_slices"]
        self.assertEqual(len(slices), len(edges) + 1)
        for k, s in enumerate(slices):
            m = bucket == k
            self.assertEqual(s["rows"], int(m.sum()), s["slice"])
            want = expected_regression(d["yr"][m], d["fr"][m], d["wr"][m])
            for name in REGRESSION_METRICS:
                self.close(s["metrics"][name], want[name], f"temp slice {s['slice']}: {name}")

    def check_fairness(self, got, want, what):
        for g in got["groups"]:
            expected = want["groups"][g["group"]]
            for name, value in expected.items():
                self.close(g[name], value, f"{what}: group {g['group']} {name}")
        for name in ["demographic_parity_difference", "demographic_parity_ratio",
                     "equal_opportunity_difference", "equal_opportunity_ratio",
                     "equalized_odds_difference", "equalized_odds_ratio"]:
            self.close(got[name], want[name], f"{what}: {name}")
        di = got["disparate_impact"]
        self.assertEqual(sorted(di["by_group"]), sorted(want["disparate_impact"]["by_group"]))
        for name, value in want["disparate_impact"]["by_group"].items():
            self.close(di["by_group"][name], value, f"{what}: disparate impact {name}")
        self.close(di["min"], want["disparate_impact"]["min"], f"{what}: disparate impact min")
        self.close(di["pooled"], want["disparate_impact"]["pooled"], f"{what}: pooled")

    def test_fairness(self):
        d = self.data
        for column in ["sex", "race"]:
            names = list(dict.fromkeys(d[column]))
            largest = pd.Series(d[column]).value_counts().index[0]
            for key, w, threshold, privileged in [
                    ("fairness", None, 0.5, [largest]),
                    ("fairness_weighted", d["w"], 0.5, [largest]),
                    ("fairness_privileged", None, 0.3,
                     [names[0], names[-1]] if len(names) > 2 else [names[-1]])]:
                got = self.results[key][column]
                self.assertEqual(got["disparate_impact"]["privileged"], privileged)
                want = expected_fairness(d["y"], d["p"], w, d[column], threshold, privileged)
                self.check_fairness(got, want, f"{key} {column}")


if __name__ == "__main__":
    unittest.main()
