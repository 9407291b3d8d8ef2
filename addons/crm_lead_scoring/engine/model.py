"""The learned part of the score: gradient-boosted trees or an additive spline model, explained exactly.

Why these models: the benchmark (``make bench-scoring``) measured them against an L2 logistic
regression, a spline logistic regression and scikit-learn's histogram gradient boosting on
public customer data sets and the generator's history, with numbers given as they are and as
ordered bands. A straight line cannot follow a win rate that rises then falls with a number,
nor a band recorded as a code. Two families can, and each wins somewhere:

- gradient-boosted trees (LightGBM): categories, bands and missing values as they come, pairs
  of facts that matter together; the tree shape (stumps: one fact per tree, an additive model;
  depth 2: pairs; 15 leaves) and the number of trees chosen by cross-validation;
- an additive logistic regression with a cubic spline per number: smooth shapes learned from
  few leads (a history of a thousand closed leads), where trees are still coarse.

Both are measured on the same splits of the company's own leads (cross-validation; one holdout above
20,000 closed leads); the lower log loss wins.

Explanations stay exact: for the trees, LightGBM's ``pred_contrib`` gives each feature's part of
the log-odds (TreeSHAP); for the additive model each column's part is its own terms. Either way
the parts add up to the log-odds from the expected lead's, and the probability is split in the
same proportions, so that the parts add up to ``p - baseline``.

The stored model is text: LightGBM's own model format, or plain numbers, inside the JSON
payload; no pickle. Models stored before (``kind`` absent: a logistic regression with one weight
per number) still score and explain, until the next training replaces them.
"""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
import dataclasses
import os
import threading
import typing
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from . import metrics, untranslated
from .features import CATEGORY, LOG, NUMERIC, Featurizer, Restricted

KIND = "lightgbm"
ADDITIVE = "additive"
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
MIN_CLASS = 5
LEARNING_RATE = 0.05
# for histories where a finer rate costs minutes and gains nothing measurable
LARGE_HISTORY, LARGE_LEARNING_RATE = 20000, 0.1
HOLDOUT_SHARE = 0.2  # of a large history, measured on (see _splits)
MAX_ROUNDS = 3000
EARLY_STOP = 50
# the tree shapes tried, simplest first; the one with the lowest cross-validated log loss wins
SHAPES = (
    {"num_leaves": 2, "max_depth": 1},
    {"num_leaves": 4, "max_depth": 2},
    {"num_leaves": 15, "max_depth": -1},
)
BASE_PARAMS = {
    "objective": "binary",
    "lambda_l2": 1.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
    "min_data_per_group": 20,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
# leads measured for the report's importance and shapes (their average, not each lead)
REPORT_SAMPLE = 5000
# from this many leads at once the trees score and explain on every core (see _scoring_threads)
SCORING_THREADS_FROM = 1000
SHAPE_POINTS = 12


class NotEnoughData(ValueError):
    """Too few won or lost leads to learn anything."""


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lightgbm():
    import lightgbm  # noqa: PLC0415 (a heavy import, needed only to train and score)

    return lightgbm


def _threads():
    """Training threads: the machine's cores, at most four (the job runs beside the server)."""
    return max(1, min(4, os.cpu_count() or 1))


def _scoring_threads(count):
    """Threads to score ``count`` leads with: a job's batch uses the cores (the database waits
    meanwhile), a lead or two scored in a request stays on its worker's thread."""
    return _threads() if count >= SCORING_THREADS_FROM else 1


def _params(n_rows, shape, seed):
    params = dict(BASE_PARAMS, **shape)
    params.update(
        learning_rate=LARGE_LEARNING_RATE if n_rows > LARGE_HISTORY else LEARNING_RATE,
        # a leaf stands for at least this many leads: fewer on a small history, never one or two
        min_data_in_leaf=max(5, min(20, n_rows // 50)),
        seed=seed,
        num_threads=_threads(),
    )
    return params


def _folds(y):
    smallest = int(min(y.sum(), len(y) - y.sum()))
    return max(2, min(5 if len(y) <= 5000 else 3, smallest))


def _splits(y, seed):
    """``[(learn, measure), ...]``: the splits the candidates are measured on.

    Up to ``LARGE_HISTORY`` closed leads, stratified k-fold cross-validation: every lead is
    measured by a model that did not learn from it. Above, one stratified holdout of
    ``HOLDOUT_SHARE``: thousands of leads measure a model precisely enough (the AUC's standard
    error is below 0.005), and each candidate is trained once instead of three times.
    """
    if len(y) > LARGE_HISTORY:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    return list(StratifiedKFold(_folds(y), shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


@dataclasses.dataclass
class _Candidate:
    """One family of model, cross-validated: its mean fold log loss, each lead's out-of-fold
    log-odds, and how to train it on every lead."""

    name: str
    loss: float
    out_of_fold: np.ndarray
    fit: typing.Callable


def _trees(columns, y, folds, seed, min_count):
    """Gradient-boosted trees; the tree shape with the lowest cross-validated log loss."""
    lgb = _lightgbm()
    featurizer = Featurizer(min_count=min_count).fit(columns)
    owner, categorical = featurizer.tree_features()
    X = featurizer.tree_matrix(columns)
    best = None
    for shape in SHAPES:
        params = _params(len(y), shape, seed)
        data = lgb.Dataset(X, y, categorical_feature=categorical, free_raw_data=False)
        with warnings.catch_warnings():
            # LightGBM warns that a categorical_feature given to a Dataset overrides the params: intended
            warnings.simplefilter("ignore", UserWarning)
            result = lgb.cv(
                params,
                data,
                num_boost_round=MAX_ROUNDS,
                folds=folds,
                callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
                return_cvbooster=True,
            )
        losses = result["valid binary_logloss-mean"]
        rounds = int(np.argmin(losses)) + 1
        if best is None or losses[rounds - 1] < best[0]:
            best = (float(losses[rounds - 1]), params, rounds, result["cvbooster"].boosters)
    loss, params, rounds, boosters = best
    out_of_fold = np.zeros(len(y))
    for (_learn, measure), booster in zip(folds, boosters, strict=True):
        out_of_fold[measure] = booster.predict(X[measure], raw_score=True, num_iteration=rounds)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=categorical), num_boost_round=rounds)
        sample = _report_sample(len(y), seed)
        contributions = booster.predict(X[sample], pred_contrib=True, num_threads=1)
        model = {
            "kind": KIND,
            "featurizer": featurizer.to_dict(),
            "booster": booster.model_to_string(),
            "owner": owner.tolist(),
            "categorical": categorical,
            # TreeSHAP's expected log-odds: where every lead's explanation starts
            "expected": float(contributions[0, -1]),
            "params": {key: params[key] for key in ("num_leaves", "max_depth", "learning_rate", "min_data_in_leaf")},
            "rounds": rounds,
        }
        return model, featurizer, sample, _per_column(contributions[:, :-1], owner, len(featurizer.specs))

    return _Candidate("trees", loss, out_of_fold, fit)


def _additive(columns, y, folds, seed, min_count):
    """A logistic regression on a spline of each number (one-hot categories and tags): an additive
    model whose numbers may bend, the regularisation chosen on cross-validated log loss."""
    featurizer = Featurizer(min_count=min_count, splines=True).fit(columns)
    X = featurizer.transform(columns)
    with warnings.catch_warnings():
        # scikit-learn announces parameter renames between versions; the defaults used here stay the same
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = LogisticRegressionCV(Cs=list(C_GRID), cv=folds, scoring="neg_log_loss", max_iter=3000)
        search.fit(X, y)
        mean_scores = np.asarray(search.scores_[1]).mean(axis=0)
        best = int(np.argmax(mean_scores))
        c_value = float(search.Cs_[best])
        out_of_fold = np.zeros(len(y))
        for learn, measure in folds:
            estimator = LogisticRegression(C=c_value, max_iter=3000).fit(X[learn], y[learn])
            out_of_fold[measure] = estimator.decision_function(X[measure])

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator = LogisticRegression(C=c_value, max_iter=3000).fit(X, y)
        means = X.mean(axis=0)
        model = {
            "kind": ADDITIVE,
            "featurizer": featurizer.to_dict(),
            "coef": estimator.coef_[0].tolist(),
            "intercept": float(estimator.intercept_[0]),
            "means": means.tolist(),
            "C": c_value,
        }
        sample = _report_sample(len(y), seed)
        parts = (X[sample] - means) * estimator.coef_[0]
        return model, featurizer, sample, _per_column(parts, featurizer.groups(), len(featurizer.specs))

    return _Candidate("additive", float(-mean_scores[best]), out_of_fold, fit)


def _report_sample(count, seed):
    return np.random.default_rng(seed).permutation(count)[:REPORT_SAMPLE]


def _per_column(parts, owner, count):
    per_column = np.zeros((parts.shape[0], count))
    np.add.at(per_column.T, owner, parts.T)
    return per_column


def train(columns, y, seed=0, min_count=5):
    """Learn a model from the facts of closed leads (``y``: 1 won, 0 lost).

    Two families are measured on the same splits (:func:`_splits`: cross-validation, or one
    holdout for a large history): gradient-boosted trees (their shape and number of trees chosen
    there) and an additive spline logistic regression; the one with the lower log loss wins. The
    quality is measured on each measured lead by the model that did not learn from it, and the
    stored model is then trained on every lead. Returns the JSON-ready model, its measures and
    ``(indexes of the measured leads, their probabilities)``.
    """
    y = np.asarray(y, dtype=int)
    if y.sum() < MIN_CLASS or (len(y) - y.sum()) < MIN_CLASS:
        raise NotEnoughData(f"at least {MIN_CLASS} won and {MIN_CLASS} lost leads are needed")
    folds = _splits(y, seed)
    measured = np.sort(np.concatenate([measure for _learn, measure in folds]))
    # which values are frequent enough to be learned, the knots: from every lead, outcomes unseen
    candidates = [_trees(columns, y, folds, seed, min_count), _additive(columns, y, folds, seed, min_count)]
    chosen = min(candidates, key=lambda candidate: candidate.loss)
    measured_p = _sigmoid(chosen.out_of_fold[measured])
    quality = metrics.evaluate(y[measured], measured_p)
    quality.update(train_count=len(y), holdout_count=len(measured))
    model, featurizer, sample, per_column = chosen.fit()
    model.update(
        won=int(y.sum()),
        lost=int(len(y) - y.sum()),
        candidates={candidate.name: candidate.loss for candidate in candidates},
        report=_report(featurizer, [subset(column, sample) for column in columns], per_column),
    )
    return model, quality, (measured, measured_p)


def _report(featurizer, columns, per_column):
    """What the model report draws: each fact's share of the explanations and, for a number,
    the learned shape (the average part of the log-odds along its values)."""
    weight = np.abs(per_column).mean(axis=0)
    total = float(weight.sum()) or 1.0
    by_key = {column.key: column for column in columns}
    facts = []
    for index, spec in enumerate(featurizer.specs):
        fact = {"key": spec["key"], "label": spec["label"], "share": float(weight[index]) / total}
        column = by_key.get(spec["key"])
        if spec["kind"] in (NUMERIC, LOG) and column is not None:
            fact["shape"] = _shape(column.values, per_column[:, index])
        elif spec["kind"] == CATEGORY and column is not None:
            fact["levels"] = _levels(column.values, per_column[:, index])
        facts.append(fact)
    facts.sort(key=lambda fact: -fact["share"])
    return {"facts": facts}


def _shape(values, parts):
    """``[[value, part], ...]``: the average part per band of values (at most SHAPE_POINTS bands)."""
    raw = np.array([np.nan if v is None or v is False else float(v) for v in values])
    known = ~np.isnan(raw)
    if not known.any():
        return []
    x, part = raw[known], parts[known]
    distinct = np.unique(x)
    if len(distinct) <= SHAPE_POINTS:
        return [[float(v), float(part[x == v].mean())] for v in distinct]
    edges = np.unique(np.quantile(x, np.linspace(0, 1, SHAPE_POINTS + 1)))
    band = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    return [[float(x[band == b].mean()), float(part[band == b].mean())] for b in np.unique(band)]


def _levels(values, parts, count=8):
    """``[[label, part], ...]``: the average part of the most frequent values of a category."""
    by_label = {}
    for value, part in zip(values, parts, strict=True):
        if value:
            by_label.setdefault(str(value[1]), []).append(part)
    frequent = sorted(by_label.items(), key=lambda item: -len(item[1]))[:count]
    return [[label, float(np.mean(items))] for label, items in frequent]


def feature_count(model):
    """How many numbers the model reads per lead."""
    return len(model.get("owner") or model.get("coef") or ())


def subset(column, index):
    return dataclasses.replace(column, values=[column.values[i] for i in index])


def top_parts(parts, count):
    """Per row, the indexes of the ``count`` parts largest in absolute value (in no particular order)."""
    n_rows, n_columns = parts.shape
    if n_columns <= count:
        return np.broadcast_to(np.arange(n_columns), (n_rows, n_columns))
    return np.argpartition(-np.abs(parts), count - 1, axis=1)[:, :count]


def _spread(per_column, baseline_logit):
    """Probabilities, and the parts of ``p - baseline`` in the proportions of the log-odds parts.

    Along the straight path from the baseline's log-odds to the lead's, the probability moves
    by ``p - p0`` for a log-odds move of ``delta``: each part of the log-odds gets the same share
    of the probability's move (the integrated gradient along that path), so the parts add up.
    """
    delta = per_column.sum(axis=1)
    p = _sigmoid(baseline_logit + delta)
    p0 = float(_sigmoid(baseline_logit))
    slope = np.where(np.abs(delta) > 1e-9, (p - p0) / np.where(delta == 0, 1, delta), p0 * (1 - p0))
    return p, per_column * slope[:, None]


class _Base:
    """What both kinds of stored model share: the baseline and the explanations in words."""

    baseline_logit = 0.0

    @property
    def baseline(self):
        """Win probability the explanations start from (the average training lead's)."""
        return float(_sigmoid(self.baseline_logit))

    def explanations(self, columns, top, _=untranslated):
        """Probabilities, and the :class:`Explanations` that put each lead's parts in words on demand."""
        p, parts = self.explain(columns)
        return p, Explanations(self, columns, parts, top, _)


_local = threading.local()


def _booster(text):
    """The booster of a stored model, parsed once per thread and kept for the next batches.

    A few recent models per thread: a worker scores the leads of a handful of scopes.
    """
    cache = getattr(_local, "boosters", None)
    if cache is None:
        cache = _local.boosters = {}
    booster = cache.get(text)
    if booster is None:
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        booster = cache[text] = _lightgbm().Booster(model_str=text)
    return booster


class TreePredictor(_Base):
    """A stored LightGBM model, ready to score and explain leads."""

    def __init__(self, model):
        self.model = model
        self.featurizer = Featurizer.from_dict(model["featurizer"])
        self.booster = _booster(model["booster"])
        self.owner = np.asarray(model["owner"], dtype=int)
        self.baseline_logit = float(model["expected"])

    def predict(self, columns):
        X = self.featurizer.tree_matrix(columns)
        return _sigmoid(self.booster.predict(X, raw_score=True, num_threads=_scoring_threads(X.shape[0])))

    def explain(self, columns):
        """Probabilities and, per lead, the part of ``p - baseline`` each column explains.

        TreeSHAP's parts of the log-odds, summed per column, add up to the lead's log-odds
        from the expected one, exactly (the model's own arithmetic, not an approximation).
        """
        X = self.featurizer.tree_matrix(columns)
        contributions = self.booster.predict(X, pred_contrib=True, num_threads=_scoring_threads(X.shape[0]))
        per_column = np.zeros((X.shape[0], len(self.featurizer.specs)))
        np.add.at(per_column.T, self.owner, contributions[:, :-1].T)
        return _spread(per_column, self.baseline_logit)


class LinearPredictor(_Base):
    """A logistic regression: the additive model (a spline per number), or a model stored before
    the trees (no ``kind``: one weight per number), scored until the next training replaces it."""

    def __init__(self, model):
        self.model = model
        self.featurizer = Featurizer.from_dict(model["featurizer"])
        self.coef = np.asarray(model["coef"], dtype=float)
        self.intercept = float(model["intercept"])
        self.means = np.asarray(model["means"], dtype=float)
        self.groups = self.featurizer.groups()
        self.baseline_logit = self.intercept + float(self.means @ self.coef)

    def predict(self, columns):
        X = self.featurizer.transform(columns)
        return _sigmoid(X @ self.coef + self.intercept)

    def explain(self, columns):
        """The logit is a sum over the columns: each column's part of the distance to the average
        lead is exact."""
        X = self.featurizer.transform(columns)
        parts = (X - self.means) * self.coef
        per_column = np.zeros((X.shape[0], len(self.featurizer.specs)))
        np.add.at(per_column.T, self.groups, parts.T)
        return _spread(per_column, self.baseline_logit)


def Predictor(model):  # noqa: N802 (reads as the class it returns)
    """The predictor of a stored model, whichever its kind."""
    if model.get("kind") == KIND:
        return TreePredictor(model)
    return LinearPredictor(model)


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
