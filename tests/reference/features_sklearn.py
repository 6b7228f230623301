#!/usr/bin/python3
"""Compares mloop's feature transforms with scikit-learn's on the Adult data.

Runs features_test (env FEATURES_TEST) with MLOOP_FEATURES_REFERENCE_DIR set, which makes
AdultTest.WritesReferenceMatrices fit every spec in features_specs/ on adult.data and write
the double-precision matrix as NAME.csv; then computes what scikit-learn gives for the same
spec and requires every value to agree within 1e-9 (relative to the value, at least 1e-9
absolute). Run by ctest (label e2e) with Debian's python3 and python3-sklearn.

Known, documented differences, handled here (docs/features.md, "Compared with scikit-learn"):
  - onehot always has a COL=__other__ column, and COL=__null__ with `nulls: column`, even when
    no value falls in them; scikit-learn only has an infrequent column when a category is
    infrequent, and a nan column when nan was seen. Such extra columns must be all zeros.
  - onehot names COL=VALUE, COL=__other__, COL=__null__ are scikit-learn's COL_VALUE,
    COL_infrequent_sklearn and COL_nan.
"""
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd
import yaml
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (KBinsDiscretizer, MinMaxScaler, OneHotEncoder,
                                   OrdinalEncoder, RobustScaler, StandardScaler)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
TOLERANCE = 1e-9


def read_adult():
    with open(os.path.join(ROOT, "src/data/testdata/adult_contract.yaml")) as f:
        names = yaml.safe_load(f)["format"]["names"]
    path = os.path.join(os.environ["MLOOP_DATASETS_DIR"], "adult", "adult.data")
    return pd.read_csv(path, header=None, names=names, na_values=["?"], keep_default_na=False,
                       skipinitialspace=True)


def text(df, column):
    """A column as an object array with np.nan for missing, as sklearn's encoders take it."""
    return df[[column]].astype(object).where(df[[column]].notna(), np.nan).to_numpy()


def onehot(df, column, out, **options):
    enc = OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=False, **options)
    x = enc.fit_transform(text(df, column))
    for name, values in zip(enc.get_feature_names_out([column]), x.T):
        out[name] = values


def expected(name, df):
    """Column name -> values, as scikit-learn computes them for features_specs/NAME.yaml."""
    out = {}
    x = df[NUMERIC].to_numpy(dtype=float)
    numeric = {
        "standardize": StandardScaler(),
        "minmax": MinMaxScaler(),
        "robust": RobustScaler(),
        "bucketize_quantile": KBinsDiscretizer(n_bins=5, encode="ordinal", strategy="quantile",
                                               subsample=None),
        "bucketize_uniform": KBinsDiscretizer(n_bins=7, encode="ordinal", strategy="uniform"),
    }
    if name in numeric:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # KBinsDiscretizer warns about narrow bins.
            y = numeric[name].fit_transform(x)
        return dict(zip(NUMERIC, y.T))
    if name == "impute":
        def ratio(a, b):
            a, b = df[a].to_numpy(dtype=float), df[b].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(b == 0, np.nan, a / b).reshape(-1, 1)
        for column, a, imputer in [
                ("r_mean", "fnlwgt", SimpleImputer(strategy="mean")),
                ("r_median", "fnlwgt", SimpleImputer(strategy="median")),
                ("r_most_frequent", "age", SimpleImputer(strategy="most_frequent")),
                ("r_constant", "age", SimpleImputer(strategy="constant", fill_value=-1.5))]:
            out[column] = imputer.fit_transform(ratio(a, "capital_loss"))[:, 0]
        return out
    if name == "onehot":
        onehot(df, "workclass", out)
        onehot(df, "education", out, max_categories=8)
        occupation = df.copy()
        occupation["occupation"] = SimpleImputer(
            strategy="constant", fill_value="none").fit_transform(text(df, "occupation"))[:, 0]
        onehot(occupation, "occupation", out, max_categories=6)
        country = df.copy()
        country["native_country"] = SimpleImputer(
            strategy="most_frequent").fit_transform(text(df, "native_country"))[:, 0]
        onehot(country, "native_country", out, min_frequency=50)
        for column in ["marital_status", "relationship", "race", "sex"]:
            onehot(df, column, out)
        return out
    if name == "ordinal":
        for column in ["workclass", "education", "marital_status", "occupation", "relationship",
                       "race", "sex", "native_country"]:
            out[column] = OrdinalEncoder().fit_transform(text(df, column))[:, 0]
        return out
    raise KeyError(name)


def sklearn_name(ours):
    if "=" not in ours:
        return ours
    column, value = ours.split("=", 1)
    value = {"__other__": "infrequent_sklearn", "__null__": "nan"}.get(value, value)
    return column + "_" + value


def close(got, want):
    both_nan = np.isnan(got) & np.isnan(want)
    ok = both_nan | (np.abs(got - want) <= TOLERANCE * np.maximum(1.0, np.abs(want)))
    return ok


class FeaturesAgainstSklearn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        env = dict(os.environ, MLOOP_FEATURES_REFERENCE_DIR=cls.dir.name)
        run = subprocess.run([os.environ["FEATURES_TEST"],
                              "--gtest_filter=AdultTest.WritesReferenceMatrices"],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("features_test failed:\n" + run.stdout + run.stderr)
        cls.adult = read_adult()

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def check(self, name):
        ours = pd.read_csv(os.path.join(self.dir.name, name + ".csv"), keep_default_na=False,
                           na_values=["nan", "-nan"], dtype=float)
        want = expected(name, self.adult)
        matched = set()
        for column in ours.columns:
            got = ours[column].to_numpy()
            key = sklearn_name(column)
            if key not in want:
                self.assertTrue(np.all(got == 0),
                                f"{name}: {column} has no scikit-learn column and is not all 0")
                continue
            matched.add(key)
            ok = close(got, np.asarray(want[key], dtype=float))
            bad = np.flatnonzero(~ok)
            self.assertEqual(len(bad), 0,
                             f"{name}: {column}: {len(bad)} rows differ, first row {bad[:1]}: "
                             f"mloop {got[bad[:1]]}, scikit-learn {np.asarray(want[key])[bad[:1]]}")
        self.assertEqual(sorted(set(want) - matched), [], f"{name}: scikit-learn columns missing")
        self.assertEqual(len(ours), len(self.adult))


def add_tests():
    specs = sorted(f[:-5] for f in os.listdir(os.path.join(HERE, "features_specs"))
                   if f.endswith(".yaml"))
    for spec in specs:
        setattr(FeaturesAgainstSklearn, "test_" + spec, lambda self, s=spec: self.check(s))


add_tests()

if __name__ == "__main__":
    unittest.main()
