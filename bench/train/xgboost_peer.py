#!/usr/bin/python3
"""bench/train's peer: the job of `mloop train --config bench/train/xgboost.yaml`, done with
Python's xgboost (Debian's python3-xgboost 1.7) and pandas, from the CSV files.

    xgboost_peer.py TRAIN_CSV VALID_CSV --out MODEL.ubj [--nthread 2] [--rounds 100]

Reads both files as the Adult contract's `format` says (no header, its 15 names, spaces after
the comma skipped, `?` as missing, `|` comments), builds the features of
examples/adult/features.yaml (fitted on the training rows), maps the label as the config does
(`income`, a trailing "." stripped, ">50K" is class 1), trains binary:logistic with the
config's parameters for a fixed number of rounds with train and valid evaluated each round
(logloss and auc), and saves the booster as UBJSON. Prints one JSON line: the phases' seconds
(from this script's first line, imports included), the final metrics, the matrix shapes and
the model file's SHA-256.

The features are those of mloop's pipeline (docs/features.md), replicated column for column:
numbers as they are (float32), `education` dropped, and each one-hot column replaced at its
position by `COL=VALUE` for each kept training category (sorted by bytes), then `COL=__other__`
(`nulls: other`: a missing value, or a value unseen or not kept, sets `__other__`).
`max_categories: 10` keeps the 9 most frequent categories (ties: the later value in sorted
order) and sends the rest to `__other__`. So both sides hand XGBoost the same float32 matrix,
64 features in the same order.
"""
import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402

T_IMPORTS = time.perf_counter()

NAMES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
         "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
         "hours_per_week", "native_country", "income"]
NUMBERS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
TEXT = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
        "native_country", "income"]
LABEL, STRIP_SUFFIX, POSITIVE = "income", ".", ">50K"
# examples/adult/features.yaml: column -> max_categories (None: all), nulls: other for all.
ONEHOT = {"workclass": None, "occupation": None, "marital_status": None, "relationship": None,
          "race": None, "sex": None, "native_country": 10}
DROP = {"education"}


def read(path):
    dtypes = {c: "int64" for c in NUMBERS}
    dtypes.update({c: "category" for c in TEXT})
    return pd.read_csv(path, header=None, names=NAMES, dtype=dtypes, skipinitialspace=True,
                       na_values=["?"], keep_default_na=False, comment="|", engine="c")


def fit_onehot(column, max_categories):
    """The kept categories of one column, sorted by bytes (mloop's onehot fit)."""
    counts = column.value_counts(dropna=True)
    counts = counts[counts > 0]
    cats = sorted(counts.index.astype(str), key=lambda s: s.encode())
    if max_categories is not None and len(cats) + 1 > max_categories:
        # The max_categories - 1 most frequent; ties keep the later value in sorted order.
        order = sorted(range(len(cats)), key=lambda i: (-counts[cats[i]], -i))
        keep = sorted(order[:max_categories - 1])
        cats = [cats[i] for i in keep]
    return cats


def labels(frame):
    col = frame[LABEL]
    classes = np.array([str(c).removesuffix(STRIP_SUFFIX) == POSITIVE
                        for c in col.cat.categories], dtype=np.float32)
    codes = col.cat.codes.to_numpy()
    keep = codes >= 0  # rows with a missing label are left out
    return classes[codes[keep]], keep


def transform(frame, fitted, keep):
    """The float32 feature matrix, row-major, features in mloop's order."""
    n = int(keep.sum())
    width = sum(1 if kind == "number" else len(cats) + 1 for _, kind, cats in fitted)
    x = np.empty((n, width), dtype=np.float32)
    j = 0
    for name, kind, cats in fitted:
        if kind == "number":
            x[:, j] = frame[name].to_numpy()[keep]
            j += 1
            continue
        codes = pd.Categorical(frame[name].astype(object), categories=cats).codes[keep]
        k = len(cats)
        x[:, j:j + k] = codes[:, None] == np.arange(k, dtype=codes.dtype)[None, :]
        x[:, j + k] = codes < 0  # __other__: not kept, unseen or missing (nulls: other)
        j += k + 1
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("valid")
    ap.add_argument("--out", required=True)
    ap.add_argument("--nthread", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    train = read(args.train)
    valid = read(args.valid)
    t_read = time.perf_counter()

    fitted = []
    for name in NAMES:
        if name == LABEL or name in DROP:
            continue
        if name in ONEHOT:
            fitted.append((name, "onehot", fit_onehot(train[name], ONEHOT[name])))
        else:
            fitted.append((name, "number", None))
    ytrain, ktrain = labels(train)
    yvalid, kvalid = labels(valid)
    xtrain = transform(train, fitted, ktrain)
    xvalid = transform(valid, fitted, kvalid)
    t_features = time.perf_counter()

    dtrain = xgb.DMatrix(xtrain, label=ytrain, missing=np.nan, nthread=args.nthread)
    dvalid = xgb.DMatrix(xvalid, label=yvalid, missing=np.nan, nthread=args.nthread)
    t_dmatrix = time.perf_counter()

    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1,
              "tree_method": "hist", "nthread": args.nthread, "seed": args.seed,
              "eval_metric": ["logloss", "auc"]}
    history = {}
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds,
                        evals=[(dtrain, "train"), (dvalid, "valid")],
                        evals_result=history, verbose_eval=False)
    t_train = time.perf_counter()

    tmp = args.out + ".tmp.ubj"
    booster.save_model(tmp)
    with open(tmp, "rb") as f:
        model = f.read()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    t_save = time.perf_counter()

    metrics = {f"{s}-{m}": v[-1] for s, ms in history.items() for m, v in ms.items()}
    print(json.dumps({
        "xgboost": xgb.__version__, "pandas": pd.__version__,
        "train_rows": int(xtrain.shape[0]), "validation_rows": int(xvalid.shape[0]),
        "features": int(xtrain.shape[1]), "rounds": booster.num_boosted_rounds(),
        "metrics": metrics, "model_sha256": hashlib.sha256(model).hexdigest(),
        "phases": {"imports": T_IMPORTS - T0, "read": t_read - T_IMPORTS,
                   "features": t_features - t_read, "dmatrix": t_dmatrix - t_features,
                   "train": t_train - t_dmatrix, "save": t_save - t_train},
        "seconds": t_save - T0}))


if __name__ == "__main__":
    main()
