"""From lead facts to the numeric matrix the model learns on, and back to words.

A lead is described by *columns*: one per fact (a field of the lead, an
engagement count, an ERP fact given by another addon). A :class:`Featurizer`
learns from the training leads how to turn each column into numbers (one-hot
vocabularies, imputation, scaling) and remembers, for each numeric feature,
which column it came from, so that the model's weights can be explained per
fact in words a salesperson reads.
"""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import untranslated

CATEGORY = "category"  # one value per lead: (key, label) or None
MULTI = "multi"  # several values per lead: [(key, label), ...]
NUMERIC = "numeric"  # a number or None
LOG = "log"  # a positive amount or None, learned on log1p
BOOL = "bool"  # True/False
KINDS = (CATEGORY, MULTI, NUMERIC, LOG, BOOL)
MIN_SCALE = 0.05  # standardisation never divides by less (a log1p of days: about an hour apart)
CLIP = 5.0  # standardised values beyond this many deviations count as this many
SPLINE_KNOTS = 5  # at the quantiles 0, 25, 50, 75 and 100 % of a number (ties merged)
SPLINE_DEGREE = 3


@dataclass
class Column:
    """One fact about each lead, in the order of the leads being scored.

    ``describe`` formats the explanation of a numeric or boolean fact; it
    receives ``value`` (e.g. ``"Company already bought {value:g} times"``).
    ``groups`` (comma-separated group xmlids) keeps the value to the readers of
    those groups: the others read the fact's ``label`` without its value (an
    amount the accounting keeps to itself, say).
    """

    key: str
    label: str
    kind: str
    values: list
    describe: str = ""
    groups: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Restricted:
    """Words of an explanation only some readers may read: ``detail`` for the readers of
    ``groups``, ``label`` for the others."""

    label: str
    detail: str
    groups: str


@dataclass
class Featurizer:
    """What was learned from the training leads to encode each column."""

    min_count: int = 5
    max_values: int = 40
    # numbers with more than two values become a cubic B-spline basis (the additive model)
    splines: bool = False
    specs: list = field(default_factory=list)

    # -- learning -----------------------------------------------------------

    def fit(self, columns):
        self.specs = []
        for column in columns:
            spec = {"key": column.key, "label": column.label, "kind": column.kind, "describe": column.describe}
            if column.kind in (CATEGORY, MULTI):
                counts = Counter()
                labels = {}
                for value in column.values:
                    items = (value or []) if column.kind == MULTI else ([value] if value else [])
                    for key, label in items:
                        counts[str(key)] += 1
                        labels[str(key)] = label
                vocabulary = [k for k, c in counts.most_common(self.max_values) if c >= self.min_count]
                spec["vocabulary"] = vocabulary
                spec["labels"] = {k: labels[k] for k in vocabulary}
            elif column.kind in (NUMERIC, LOG):
                raw = np.array([_number(v, column.kind) for v in column.values], dtype=float)
                present = raw[~np.isnan(raw)]
                fill = float(np.median(present)) if len(present) else 0.0
                filled = np.where(np.isnan(raw), fill, raw)
                spec["fill"] = fill
                spec["mean"] = float(filled.mean()) if len(filled) else 0.0
                # a near-constant column must not blow up on a slightly different new value
                spec["scale"] = max(float(filled.std()) if len(filled) else 0.0, MIN_SCALE)
                spec["missing_indicator"] = bool(len(present) < len(raw))
                if self.splines and len(np.unique(present)) > 2:
                    knots = np.unique(np.quantile(present, np.linspace(0.0, 1.0, SPLINE_KNOTS)))
                    if len(knots) >= 3:  # else nearly one value: a straight line says it all
                        spec["knots"] = knots.tolist()
            self.specs.append(spec)
        return self

    # -- encoding -----------------------------------------------------------

    @property
    def feature_names(self):
        names = []
        for spec in self.specs:
            if spec["kind"] in (CATEGORY, MULTI):
                names.extend(f"{spec['key']}={value}" for value in spec["vocabulary"])
            elif spec["kind"] in (NUMERIC, LOG):
                if spec.get("knots"):
                    names.extend(f"{spec['key']}:spline{i}" for i in range(_spline_count(spec)))
                else:
                    names.append(spec["key"])
                if spec["missing_indicator"]:
                    names.append(f"{spec['key']}:missing")
            else:
                names.append(spec["key"])
        return names

    def groups(self):
        """Index of the column each feature comes from."""
        owner = []
        for index, spec in enumerate(self.specs):
            if spec["kind"] in (CATEGORY, MULTI):
                owner.extend([index] * len(spec["vocabulary"]))
            elif spec["kind"] in (NUMERIC, LOG):
                width = _spline_count(spec) if spec.get("knots") else 1
                owner.extend([index] * (width + (1 if spec["missing_indicator"] else 0)))
            else:
                owner.append(index)
        return np.array(owner, dtype=int)

    def _values_per_spec(self, columns):
        """``(lead count, [(spec, the column's values), ...])``; a column learned but not given
        now (a fact another addon no longer adds) reads as missing for every lead."""
        by_key = {column.key: column for column in columns}
        count = len(columns[0].values) if columns else 0
        return count, [
            (spec, by_key[spec["key"]].values if spec["key"] in by_key else [None] * count) for spec in self.specs
        ]

    def transform(self, columns):
        count, per_spec = self._values_per_spec(columns)
        blocks = []
        for spec, values in per_spec:
            if spec["kind"] in (CATEGORY, MULTI):
                block = _one_hot(values, spec["vocabulary"], multi=spec["kind"] == MULTI)
            elif spec["kind"] in (NUMERIC, LOG):
                raw = _numbers(values, spec["kind"])
                missing = np.isnan(raw)
                filled = np.where(missing, spec["fill"], raw)
                if spec.get("knots"):
                    block = spline_basis(filled, spec["knots"])
                else:
                    block = np.clip((filled - spec["mean"]) / spec["scale"], -CLIP, CLIP)[:, None]
                if spec["missing_indicator"]:
                    block = np.hstack([block, missing[:, None].astype(float)])
            else:
                block = np.array([1.0 if v else 0.0 for v in values])[:, None]
            blocks.append(block)
        if not blocks:
            return np.zeros((count, 0))
        return np.hstack(blocks)

    def tree_features(self):
        """``(owner, categorical)`` of the matrix :meth:`tree_matrix` builds: the index of the
        column each feature comes from, and the positions of the features that are categories."""
        owner, categorical = [], []
        for index, spec in enumerate(self.specs):
            if spec["kind"] == CATEGORY:
                categorical.append(len(owner))
                owner.append(index)
            elif spec["kind"] == MULTI:
                owner.extend([index] * len(spec["vocabulary"]))
            else:
                owner.append(index)
        return np.array(owner, dtype=int), categorical

    def tree_matrix(self, columns):
        """The columns as trees read them: numbers as they are (NaN where missing: a number the
        rules test and the model splits on means the same in both), one code per category
        (NaN when not set, one more code for a value too rare to be learned), one 0/1 feature per
        known value of a multi-valued column, 0/1 for a boolean."""
        count, per_spec = self._values_per_spec(columns)
        blocks = []
        for spec, values in per_spec:
            kind = spec["kind"]
            if kind == CATEGORY:
                position = {value: i for i, value in enumerate(spec["vocabulary"])}
                other = float(len(position))
                # the code of each distinct value once (a batch holds a few values, many times each)
                codes = {value[0]: position.get(str(value[0]), other) for value in set(values) if value}
                block = np.fromiter(
                    (codes[value[0]] if value else math.nan for value in values), dtype=float, count=count
                )[:, None]
            elif kind == MULTI:
                block = _one_hot(values, spec["vocabulary"], multi=True)
            elif kind == BOOL:
                block = np.fromiter((1.0 if value else 0.0 for value in values), dtype=float, count=count)[:, None]
            else:
                block = _numbers(values, NUMERIC)[:, None]
            blocks.append(block)
        if not blocks:
            return np.zeros((count, 0))
        return np.hstack(blocks)

    # -- words --------------------------------------------------------------

    def describe(self, spec_index, column_value, _=untranslated):
        """The phrase that names a lead's value of one column (``_`` translates the fixed words)."""
        spec = self.specs[spec_index]
        kind = spec["kind"]
        if kind == CATEGORY:
            if not column_value:
                return _("%(label)s: not set", label=spec["label"])
            return f"{spec['label']}: {column_value[1]}"
        if kind == MULTI:
            known = [label for key, label in column_value or [] if str(key) in spec["labels"]]
            if not known:
                return _("%(label)s: none of the usual ones", label=spec["label"])
            return f"{spec['label']}: {', '.join(known)}"
        if kind == BOOL:
            if spec["describe"]:
                return spec["describe"].format(value=bool(column_value))
            return f"{spec['label']}: {_('yes') if column_value else _('no')}"
        if column_value is None:
            return _("%(label)s: unknown", label=spec["label"])
        if spec["describe"]:
            return spec["describe"].format(value=column_value)
        return f"{spec['label']}: {_format_number(column_value)}"

    # -- storage ------------------------------------------------------------

    def to_dict(self):
        return {
            "min_count": self.min_count,
            "max_values": self.max_values,
            "splines": self.splines,
            "specs": self.specs,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            min_count=data["min_count"],
            max_values=data["max_values"],
            splines=bool(data.get("splines")),
            specs=data["specs"],
        )


def _one_hot(values, vocabulary, multi):
    """One 0/1 feature per value of ``vocabulary``: a lead's value (``multi``: each of its
    values) sets its feature; a value outside the vocabulary, or none, sets nothing."""
    position = {value: i for i, value in enumerate(vocabulary)}
    block = np.zeros((len(values), len(position)))
    for row, value in enumerate(values):
        items = (value or ()) if multi else ((value,) if value else ())
        for key, _label in items:
            col = position.get(str(key))
            if col is not None:
                block[row, col] = 1.0
    return block


def _spline_count(spec):
    """Basis functions of a number's spline: one per knot and two more, the last one dropped
    (with the model's intercept it would say nothing new)."""
    return len(spec["knots"]) + SPLINE_DEGREE - 2


def spline_basis(x, knots):
    """The cubic B-spline basis of ``x`` on these knots, constant beyond the first and last.

    The knots are extended on each side at the spacing of the outer ones, as scikit-learn's
    ``SplineTransformer`` does, so that every basis function inside the range is a full one.
    """
    from scipy.interpolate import BSpline  # noqa: PLC0415 (only the additive model needs it)

    knots = np.asarray(knots, dtype=float)
    low, high = knots[1] - knots[0], knots[-1] - knots[-2]
    extended = np.concatenate(
        [
            knots[0] - low * np.arange(SPLINE_DEGREE, 0, -1),
            knots,
            knots[-1] + high * np.arange(1, SPLINE_DEGREE + 1),
        ]
    )
    inside = np.clip(np.asarray(x, dtype=float), knots[0], knots[-1])
    basis = BSpline.design_matrix(inside, extended, SPLINE_DEGREE).toarray()
    return basis[:, : _spline_count({"knots": knots})]


def _numbers(values, kind):
    """The column as floats (NaN where missing), log1p-scaled for amounts: one numpy pass."""
    raw = np.fromiter(
        (math.nan if value is None or value is False else value for value in values), dtype=float, count=len(values)
    )
    if kind == LOG:
        return np.log1p(np.maximum(raw, 0.0))  # NaN stays NaN
    return raw


def _number(value, kind):
    if value is None or value is False:
        return math.nan
    value = float(value)
    if kind == LOG:
        return math.log1p(max(value, 0.0))
    return value


def _format_number(value):
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
