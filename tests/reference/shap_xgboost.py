#!/usr/bin/python3
"""Compares mloop's TreeSHAP with Python xgboost's pred_contribs on Adult and Bike Sharing.

Runs model_xgboost_test (env MODEL_XGBOOST_TEST) with MLOOP_SHAP_REFERENCE_DIR set, which
makes the TreeShapVsXgboost tests train their models (Adult binary:logistic, Adult lossguide,
Bike reg:squarederror and count:poisson, Bike multi:softprob with 4 classes) and write, per
case NAME, the model (NAME.model.json), the input rows (NAME.x.f32, float32 row-major, NaN for
missing), mloop's explanations (NAME.shap.f64, float64, rows x groups x (features + 1)) and
the shape (NAME.shape: rows features groups). Then loads each model in Python's xgboost
(Debian's python3-xgboost) and requires:
  - every value within 1e-5 of Booster.predict(DMatrix, pred_contribs=True) (XGBoost computes
    in float32, mloop in double);
  - every row's values of a group to sum to Booster.predict(output_margin=True) within 1e-4;
both bounds relative to the largest |value| of the row's group when that is above 1, as in
src/model/shap_xgboost_test.cc.
Run by ctest (label e2e).
"""
import os
import subprocess
import tempfile
import unittest

import numpy as np
import xgboost

TOLERANCE = 1e-5
SUM_TOLERANCE = 1e-4
CASES = ["adult_binary_logistic", "adult_lossguide", "bike_reg_squarederror",
         "bike_count_poisson", "bike_multi_softprob"]


class ShapAgainstXgboost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        env = dict(os.environ, MLOOP_SHAP_REFERENCE_DIR=cls.dir.name)
        run = subprocess.run([os.environ["MODEL_XGBOOST_TEST"],
                              "--gtest_filter=TreeShapVsXgboost.*"],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("model_xgboost_test failed:\n" + run.stdout + run.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def check(self, name):
        base = os.path.join(self.dir.name, name)
        with open(base + ".shape") as f:
            rows, cols, groups = (int(v) for v in f.read().split())
        x = np.fromfile(base + ".x.f32", dtype="<f4").reshape(rows, cols)
        ours = np.fromfile(base + ".shap.f64", dtype="<f8").reshape(rows, groups, cols + 1)
        booster = xgboost.Booster(model_file=base + ".model.json")
        booster.set_param({"nthread": 1})
        m = xgboost.DMatrix(x, missing=np.nan)
        want = booster.predict(m, pred_contribs=True).reshape(rows, groups, cols + 1)
        want = want.astype(np.float64)
        # float32 rounding is relative: bounds scale with the largest |value| of the row's
        # group when that is above 1 (Bike's squared-error biases are near 190).
        scale = np.maximum(1.0, np.abs(want).max(axis=2))
        diff = np.abs(ours - want)
        scaled = diff / scale[:, :, None]
        worst = np.unravel_index(np.argmax(scaled), scaled.shape)
        print(f"{name}: max |mloop - xgboost| {diff.max():.3g} ({scaled.max():.3g} scaled)")
        self.assertLessEqual(scaled.max(), TOLERANCE,
                             f"{name}: at (row, group, column) {worst}: mloop {ours[worst]}, "
                             f"xgboost {want[worst]}")
        margins = booster.predict(m, output_margin=True).reshape(rows, groups)
        sums = ours.sum(axis=2)
        self.assertLessEqual((np.abs(sums - margins) / scale).max(), SUM_TOLERANCE,
                             f"{name}: sums")


def add_tests():
    for case in CASES:
        setattr(ShapAgainstXgboost, "test_" + case, lambda self, c=case: self.check(c))


add_tests()

if __name__ == "__main__":
    unittest.main()
