"""The learned part of the score: a regularised logistic regression.

Why this model: its probabilities are calibrated by construction (it
minimises log loss, and the regularisation strength is chosen on log loss by
cross-validation), it trains in seconds on a few hundred thousand leads, it is
stored as plain numbers (no pickle in the database), and its prediction splits
exactly into one contribution per fact, which is what a salesperson reads.
"""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
import dataclasses
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold, train_test_split

from . import metrics, untranslated
from .features import Featurizer, Restricted

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
MIN_CLASS = 5


class NotEnoughData(ValueError):
    """Too few won or lost leads to learn anything."""


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _fit(X, y, seed, c_value=None):
    with warnings.catch_warnings():
        # scikit-learn announces parameter renames between versions; the defaults used here stay the same
        warnings.simplefilter("ignore", FutureWarning)
        return _fit_quiet(X, y, seed, c_value)


def _fit_quiet(X, y, seed, c_value):
    if c_value is None:
        folds = min(5, int(min(y.sum(), len(y) - y.sum())))
        search = LogisticRegressionCV(
            Cs=list(C_GRID),
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
            scoring="neg_log_loss",
            max_iter=3000,
        )
        search.fit(X, y)
        return search, float(search.C_[0])
    estimator = LogisticRegression(C=c_value, max_iter=3000)
    estimator.fit(X, y)
    return estimator, c_value


def train(columns, y, seed=0, holdout=0.2, min_count=5):
    """Learn a model from the facts of closed leads (``y``: 1 won, 0 lost).

    The holdout share is kept apart to measure quality; the stored model is
    then refitted on every lead with the regularisation chosen on the rest.
    Returns the JSON-ready model and its holdout measures.
    """
    y = np.asarray(y, dtype=int)
    if y.sum() < MIN_CLASS or (len(y) - y.sum()) < MIN_CLASS:
        raise NotEnoughData(f"at least {MIN_CLASS} won and {MIN_CLASS} lost leads are needed")
    indices = np.arange(len(y))
    fit_idx, test_idx = train_test_split(indices, test_size=holdout, stratify=y, random_state=seed)
    fit_cols = [subset(column, fit_idx) for column in columns]
    featurizer = Featurizer(min_count=min_count).fit(fit_cols)
    estimator, c_value = _fit(featurizer.transform(fit_cols), y[fit_idx], seed)
    test_cols = [subset(column, test_idx) for column in columns]
    holdout_p = estimator.predict_proba(featurizer.transform(test_cols))[:, 1]
    quality = metrics.evaluate(y[test_idx], holdout_p)
    quality.update(train_count=len(fit_idx), holdout_count=len(test_idx))

    featurizer = Featurizer(min_count=min_count).fit(columns)
    X = featurizer.transform(columns)
    estimator, _c = _fit(X, y, seed, c_value=c_value)
    model = {
        "featurizer": featurizer.to_dict(),
        "coef": estimator.coef_[0].tolist(),
        "intercept": float(estimator.intercept_[0]),
        "means": X.mean(axis=0).tolist(),
        "C": c_value,
        "won": int(y.sum()),
        "lost": int(len(y) - y.sum()),
    }
    return model, quality, (test_idx, holdout_p)


def subset(column, index):
    return dataclasses.replace(column, values=[column.values[i] for i in index])


def top_parts(parts, count):
    """Per row, the indexes of the ``count`` parts largest in absolute value (in no particular order)."""
    n_rows, n_columns = parts.shape
    if n_columns <= count:
        return np.broadcast_to(np.arange(n_columns), (n_rows, n_columns))
    return np.argpartition(-np.abs(parts), count - 1, axis=1)[:, :count]


class Predictor:
    """A stored model, ready to score and explain leads."""

    def __init__(self, model):
        self.model = model
        self.featurizer = Featurizer.from_dict(model["featurizer"])
        self.coef = np.asarray(model["coef"], dtype=float)
        self.intercept = float(model["intercept"])
        self.means = np.asarray(model["means"], dtype=float)
        self.groups = self.featurizer.groups()
        self.baseline_logit = self.intercept + float(self.means @ self.coef)

    @property
    def baseline(self):
        """Win probability of the average training lead."""
        return float(_sigmoid(self.baseline_logit))

    def predict(self, columns):
        X = self.featurizer.transform(columns)
        return _sigmoid(X @ self.coef + self.intercept)

    def explain(self, columns):
        """Probabilities and, per lead, the share of ``p - baseline`` each column explains.

        The logit is linear, so each column's part of the logit's distance to
        the average lead is known exactly; spreading the probability's
        distance in the same proportions (the integrated gradient along that
        straight path) gives contributions that add up to ``p - baseline``.
        """
        X = self.featurizer.transform(columns)
        parts = (X - self.means) * self.coef
        n_columns = len(self.featurizer.specs)
        per_column = np.zeros((X.shape[0], n_columns))
        np.add.at(per_column.T, self.groups, parts.T)
        delta = per_column.sum(axis=1)
        p = _sigmoid(self.baseline_logit + delta)
        p0 = self.baseline
        slope = np.where(np.abs(delta) > 1e-9, (p - p0) / np.where(delta == 0, 1, delta), p0 * (1 - p0))
        return p, per_column * slope[:, None]

    def explanations(self, columns, top, _=untranslated):
        """Probabilities, and the :class:`Explanations` that put each lead's parts in words on demand."""
        p, parts = self.explain(columns)
        return p, Explanations(self, columns, parts, top, _)


class Explanations:
    """The parts of a batch of leads, put in words only for the leads asked for.

    Only the ``top`` parts largest in absolute value are described; the others
    are summed under "Other factors", so that the factors still add up to
    ``p - baseline``.
    """

    def __init__(self, predictor, columns, parts, top, _=untranslated):
        by_key = {column.key: column for column in columns}
        self.specs = predictor.featurizer.specs
        self.describe = predictor.featurizer.describe
        self.columns = [by_key.get(spec["key"]) for spec in self.specs]
        self.top = top_parts(parts, top)
        self.totals = parts.sum(axis=1).tolist()
        self.parts = parts.tolist()  # Python floats: faster to pick from than numpy scalars
        self.other = _("Other factors")
        self._ = _

    def factors(self, position):
        """``[(label, part)]`` of the lead at ``position`` in the batch; the label of a column
        with ``groups`` is a :class:`~.features.Restricted`."""
        row_parts = self.parts[position]
        factors = []
        described = 0.0
        for k in self.top[position].tolist():
            column = self.columns[k]
            if column is None:
                label = self.specs[k]["label"]
            else:
                label = self.describe(k, column.values[position], _=self._)
                if column.groups:
                    label = Restricted(self.specs[k]["label"], label, column.groups)
            part = row_parts[k]
            factors.append((label, part))
            described += part
        rest = self.totals[position] - described
        if abs(rest) > 1e-12:
            factors.append((self.other, rest))
        return factors
