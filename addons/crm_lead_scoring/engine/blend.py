"""Combine the rule score and the model's probability into one explained score."""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
from . import untranslated
from .features import Restricted

TOP_FACTORS = 8


def grade(score, a_min, b_min, c_min):
    if score >= a_min:
        return "A"
    if score >= b_min:
        return "B"
    if score >= c_min:
        return "C"
    return "D"


def combine(rule_result, model_result, model_weight, has_rules=True, _=untranslated):
    """Score 0..100 and factors that add up to it.

    :param rule_result: ``(rule_score, [(label, points)])``
    :param model_result: ``None`` or ``(probability, baseline, [(label, probability_part)])``
    :param model_weight: share of the model in the blend (0..1) when both exist
    :param has_rules: whether the scope has rules at all; without any, the model scores alone
        (with rules, every lead is blended, matched or not, so that matching a rule never lowers a score)
    :return: ``(score, source, factors)``; source is ``rules``, ``model`` or ``blend``
    """
    rule_score, rule_factors = rule_result
    if model_result is None:
        return rule_score, "rules", compress(rule_factors, _=_)
    probability, baseline, parts = model_result
    total, source = blended(rule_score, probability, model_weight, has_rules)
    weight = model_weight if has_rules else 1.0
    factors = [(_("Average win rate of past leads"), 100.0 * baseline * weight)]
    factors.extend((label, 100.0 * part * weight) for label, part in parts)
    factors.extend((label, points * (1.0 - weight)) for label, points in rule_factors)
    return total, source, compress(factors, _=_)


def blended(rule_score, probability, model_weight, has_rules=True):
    """The score alone, without its explanation: ``(score, source)`` as :func:`combine` gives them."""
    if probability is None:
        return rule_score, "rules"
    weight = model_weight if has_rules else 1.0
    return 100.0 * probability * weight + rule_score * (1.0 - weight), ("blend" if weight < 1.0 else "model")


def _magnitude(item):
    return abs(item[1])


def compress(factors, top=TOP_FACTORS, _=untranslated):
    """Merge same labels, keep the largest ones and sum the rest, preserving the total.

    A label is a string or a :class:`~.features.Restricted` (its detail kept for some readers).
    """
    merged = {}
    for label, points in factors:
        merged[label] = merged.get(label, 0.0) + points
    items = sorted((item for item in merged.items() if abs(item[1]) >= 1e-9), key=_magnitude, reverse=True)
    kept, rest = items[:top], items[top:]
    if rest:
        other = _("Other factors")
        rest_points = sum(points for _label, points in rest)
        # the caller may have summed small factors under the same words already: one line, not two
        for position, (label, points) in enumerate(kept):
            if label == other:
                kept[position] = (other, points + rest_points)
                break
        else:
            kept.append((other, rest_points))
    return [_factor(label, points) for label, points in kept]


def _factor(label, points):
    """A factor as stored: ``label`` and ``points``, and for a :class:`~.features.Restricted`
    label the ``detail`` only the readers of its ``groups`` read."""
    if isinstance(label, Restricted):
        return {"label": label.label, "points": round(points, 4), "detail": label.detail, "groups": label.groups}
    return {"label": label, "points": round(points, 4)}
