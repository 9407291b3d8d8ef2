"""Reference models for ``make bench-scoring``, trained offline by the bench: not part of the product.

Each reference is a function ``(train_columns, y_train, test_columns) -> probabilities`` over the
suite's own columns (``crm_lead_scoring.engine.features.Column``: ``key``, ``kind``, ``values`` in
the order of the leads; kinds ``category``, ``multi``, ``numeric``, ``log``, ``bool``), read from
the same leads with ``crm.lead._scoring_columns``: the references see exactly the facts the
suite's model learns from, nothing else. What a reference learns (vocabularies, fill values,
scales, knots) comes from the training columns only.

- :func:`l2_logistic`: L2-regularised logistic regression. Categories and tags one-hot (values
  seen at least :data:`MIN_COUNT` times), numbers filled with their median, standardised, with a
  missing indicator when the training leads miss some; amounts (``log``) on ``log1p``. The
  regularisation ``C`` is chosen by 5-fold cross-validation on log loss (:data:`C_GRID`).
- :func:`spline_logistic`: the same, every number with more than two distinct values replaced by
  a cubic B-spline basis with knots at its quantiles (:data:`SPLINE_KNOTS`, ties merged), so
  that the effect of a number may bend.
- :func:`hist_gradient_boosting`: scikit-learn's ``HistGradientBoostingClassifier`` with early
  stopping on the log loss of a 10 % validation share; categories as categorical features,
  tags one-hot, numbers as they are (missing values handled by the trees).
"""

import math
import warnings
from collections import Counter

import numpy as np

# the kinds of engine.features.Column (literal here: this module does not import the addon)
CATEGORY, MULTI, NUMERIC, LOG, BOOL = "category", "multi", "numeric", "log", "bool"
MIN_COUNT = 5  # a category or tag value seen fewer times in training is "other"
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
SPLINE_KNOTS = 5
SPLINE_DEGREE = 3
HGB_MAX_CATEGORIES = 254  # HistGradientBoostingClassifier: at most max_bins (255) categories, one left for "other"


def _numbers(column):
    """The column as floats, NaN where missing; amounts on log1p."""
    raw = np.array([math.nan if v is None or v is False else float(v) for v in column.values], dtype=float)
    if column.kind == LOG:
        return np.log1p(np.maximum(raw, 0.0))
    return raw


def _items(column, value):
    if column.kind == MULTI:
        return [str(key) for key, _label in value or []]
    return [str(value[0])] if value else []


class _Encoding:
    """What is learned from the training columns to turn any columns of the same facts into numbers."""

    def __init__(self, columns, max_categories=None):
        self.specs = []
        for column in columns:
            spec = {"key": column.key, "kind": column.kind}
            if column.kind in (CATEGORY, MULTI):
                counts = Counter(item for value in column.values for item in _items(column, value))
                frequent = [k for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= MIN_COUNT]
                spec["vocabulary"] = frequent[:max_categories] if max_categories else frequent
            elif column.kind in (NUMERIC, LOG):
                x = _numbers(column)
                present = x[~np.isnan(x)]
                spec["fill"] = float(np.median(present)) if len(present) else 0.0
                filled = np.where(np.isnan(x), spec["fill"], x)
                spec["mean"] = float(filled.mean()) if len(filled) else 0.0
                spec["scale"] = float(filled.std()) if len(filled) else 0.0
                # an indicator only when some are missing and some not (all missing: a constant)
                spec["missing"] = bool(0 < len(present) < len(x))
                spec["distinct"] = len(np.unique(present))
                spec["train"] = filled  # for the spline knots
            self.specs.append(spec)

    def by_key(self, columns):
        return {column.key: column for column in columns}

    @staticmethod
    def one_hot(spec, column, rows):
        position = {value: i for i, value in enumerate(spec["vocabulary"])}
        block = np.zeros((rows, len(position)))
        if column is not None:
            for row, value in enumerate(column.values):
                for item in _items(column, value):
                    if item in position:
                        block[row, position[item]] = 1.0
        return block

    @staticmethod
    def filled(spec, column, rows):
        x = _numbers(column) if column is not None else np.full(rows, np.nan)
        return np.where(np.isnan(x), spec["fill"], x), np.isnan(x)

    def linear_design(self, columns, splines=None):
        """One-hot categories and tags, standardised numbers (or their spline basis), 0/1 booleans."""
        by_key = self.by_key(columns)
        rows = len(columns[0].values)
        blocks = []
        for spec in self.specs:
            column = by_key.get(spec["key"])
            if spec["kind"] in (CATEGORY, MULTI):
                blocks.append(self.one_hot(spec, column, rows))
            elif spec["kind"] in (NUMERIC, LOG):
                x, missing = self.filled(spec, column, rows)
                if splines and spec["key"] in splines:
                    blocks.append(splines[spec["key"]].transform(x[:, None]))
                elif spec["scale"] > 0:
                    blocks.append(((x - spec["mean"]) / spec["scale"])[:, None])
                if spec["missing"]:
                    blocks.append(missing[:, None].astype(float))
            else:
                values = column.values if column is not None else [False] * rows
                blocks.append(np.array([1.0 if v else 0.0 for v in values])[:, None])
        return np.hstack(blocks) if blocks else np.zeros((rows, 0))

    def tree_matrix(self, columns):
        """Category codes (NaN for missing or rare), one-hot tags, raw numbers (NaN kept), 0/1 booleans;
        and the mask of the categorical columns."""
        by_key = self.by_key(columns)
        rows = len(columns[0].values)
        blocks, categorical = [], []
        for spec in self.specs:
            column = by_key.get(spec["key"])
            if spec["kind"] == CATEGORY:
                position = {value: i for i, value in enumerate(spec["vocabulary"])}
                codes = np.full(rows, np.nan)
                if column is not None:
                    for row, value in enumerate(column.values):
                        items = _items(column, value)
                        if items and items[0] in position:
                            codes[row] = position[items[0]]
                blocks.append(codes[:, None])
                categorical.append(True)
            elif spec["kind"] == MULTI:
                block = self.one_hot(spec, column, rows)
                blocks.append(block)
                categorical.extend([False] * block.shape[1])
            elif spec["kind"] in (NUMERIC, LOG):
                if not spec["distinct"]:  # never known in training (the trees cannot bin it)
                    continue
                x = _numbers(column) if column is not None else np.full(rows, np.nan)
                blocks.append(x[:, None])
                categorical.append(False)
            else:
                values = column.values if column is not None else [False] * rows
                blocks.append(np.array([1.0 if v else 0.0 for v in values])[:, None])
                categorical.append(False)
        return (np.hstack(blocks) if blocks else np.zeros((rows, 0))), np.array(categorical, dtype=bool)


def _logistic_cv(X, y, X_test, seed):
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegressionCV  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model = LogisticRegressionCV(
            Cs=list(C_GRID),
            cv=StratifiedKFold(FOLDS, shuffle=True, random_state=seed),
            scoring="neg_log_loss",
            max_iter=5000,
        )
        model.fit(X, y)
    return model.predict_proba(X_test)[:, 1]


def l2_logistic(train_columns, y_train, test_columns, seed=0):
    """L2 logistic regression, C chosen on log loss by cross-validation."""
    encoding = _Encoding(train_columns)
    X, X_test = encoding.linear_design(train_columns), encoding.linear_design(test_columns)
    return _logistic_cv(X, np.asarray(y_train, dtype=int), X_test, seed)


def spline_logistic(train_columns, y_train, test_columns, seed=0):
    """The L2 logistic regression with a cubic B-spline basis (quantile knots) for every number
    with more than two distinct values."""
    from sklearn.preprocessing import SplineTransformer  # noqa: PLC0415

    encoding = _Encoding(train_columns)
    splines = {}
    for spec in encoding.specs:
        if spec["kind"] not in (NUMERIC, LOG) or spec["distinct"] <= 2:
            continue
        knots = np.unique(np.quantile(spec["train"], np.linspace(0.0, 1.0, SPLINE_KNOTS)))
        if len(knots) < 3:  # nearly all one value: a straight line says it all
            continue
        splines[spec["key"]] = SplineTransformer(
            knots=knots[:, None], degree=SPLINE_DEGREE, extrapolation="constant", include_bias=False
        ).fit(spec["train"][:, None])
    X = encoding.linear_design(train_columns, splines)
    X_test = encoding.linear_design(test_columns, splines)
    return _logistic_cv(X, np.asarray(y_train, dtype=int), X_test, seed)


def hist_gradient_boosting(train_columns, y_train, test_columns, seed=0):
    """scikit-learn's gradient-boosted trees, early stopping on validation log loss."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

    encoding = _Encoding(train_columns, max_categories=HGB_MAX_CATEGORIES)
    X, categorical = encoding.tree_matrix(train_columns)
    X_test, _categorical = encoding.tree_matrix(test_columns)
    model = HistGradientBoostingClassifier(
        early_stopping=True,
        scoring="loss",
        max_iter=1000,
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )
    model.fit(X, np.asarray(y_train, dtype=int))
    return model.predict_proba(X_test)[:, 1]


REFERENCES = {
    "ref_l2": l2_logistic,
    "ref_spline": spline_logistic,
    "ref_hgb": hist_gradient_boosting,
}
