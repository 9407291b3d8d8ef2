"""The rule part of the score, for companies without history and for what a model cannot know.

A consultant writes rules: a *fit* rule gives points when a lead matches a
domain, an *engagement* rule gives points per engagement event (an email
received, an activity done), worth less as the event ages (half-life decay).
Rules belong to optional groups whose total is capped. Every point is kept
as a named factor, so the factors always add up to the rule score.
"""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
from dataclasses import dataclass

from . import untranslated


@dataclass(frozen=True)
class Rule:
    id: int
    label: str
    points: float
    group_id: int = 0


@dataclass(frozen=True)
class Group:
    id: int
    label: str
    cap: float = 0.0  # largest total the group may give or take; 0 = no cap


def decay_weight(age_days, half_life_days):
    """Worth of an event ``age_days`` old: 1 when new, 1/2 after one half-life."""
    if not half_life_days or half_life_days <= 0:
        return 1.0
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def score(fit_matches, engagement, rules, groups, base=0.0, _=untranslated):
    """Rule score (0..100) and its factors for each lead.

    :param fit_matches: ``{lead_id: [rule_id, ...]}`` fit rules the lead matches
    :param engagement: ``{lead_id: [(rule_id, decayed_count, count), ...]}``
        where ``decayed_count`` is the sum of the events' decay weights
    :param rules: ``{rule_id: Rule}``
    :param groups: ``{group_id: Group}``
    :param base: points every lead starts with
    :param _: translates the fixed words of the factors
    :return: ``{lead_id: (score, [(label, points), ...])}``, factors summing to score
    """
    results = {}
    for lead_id in set(fit_matches) | set(engagement):
        results[lead_id] = _score_one(fit_matches.get(lead_id, ()), engagement.get(lead_id, ()), rules, groups, base, _)
    return results


def empty(base=0.0, _=untranslated):
    """Rule result of a lead that matches no rule."""
    total = min(max(base, 0.0), 100.0)
    return total, ([(_("Base score"), total)] if total else [])


def _score_one(fit_ids, events, rules, groups, base, _):
    by_group = {}
    for rule_id in fit_ids:
        rule = rules[rule_id]
        by_group.setdefault(rule.group_id, []).append((rule.label, rule.points))
    for rule_id, decayed, count in events:
        rule = rules[rule_id]
        label = f"{rule.label} (×{count})" if count > 1 else rule.label
        by_group.setdefault(rule.group_id, []).append((label, rule.points * decayed))
    factors = [(_("Base score"), base)] if base else []
    total = base
    for group_id, items in sorted(by_group.items()):
        subtotal = sum(points for _label, points in items)
        factors.extend(items)
        group = groups.get(group_id)
        if group and group.cap and abs(subtotal) > group.cap:
            capped = group.cap if subtotal > 0 else -group.cap
            factors.append(
                (_("%(group)s: limited to %(cap)s", group=group.label, cap=f"{capped:+g}"), capped - subtotal)
            )
            subtotal = capped
        total += subtotal
    if total > 100:
        factors.append((_("Score limited to 100"), 100 - total))
        total = 100.0
    elif total < 0:
        factors.append((_("Score limited to 0"), -total))
        total = 0.0
    return total, factors
