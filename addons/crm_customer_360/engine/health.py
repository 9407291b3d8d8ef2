"""A customer's health, from 0 (about to leave) to 100 (buying as usual), with its reasons.

The facts come from the ERP (measured by the model, set-based); this module only weighs them,
so that it can be read and tested on its own. Each penalty names its reason in words an
account manager acts on.

Facts of one customer (``None`` or missing: unknown):

- ``revenue_recent`` / ``revenue_before``: invoiced revenue of the last period and of the
  same length of time before it;
- ``orders_recent`` / ``orders_before``: confirmed orders in the same two periods;
- ``days_since_order``: days since the last confirmed order;
- ``rhythm_days``: the customer's usual time between two orders (over the last two years);
- ``invoices_due``: invoices that fell due in the last year, ``invoices_late`` those of them
  paid after their due date or still unpaid; ``overdue_amount``;
- ``tickets_open``, ``tickets_failed`` (SLA failed in the period), ``rating_avg`` (1 to 5) and
  ``rating_count``.
"""

# pylint: disable=prefer-env-translation
# ``_`` is the caller's ``env._``, passed in: the engine does not know the ORM.
from dataclasses import dataclass, field

# The most each kind of sign takes away; what is left over is the health.
WEIGHTS = {
    "revenue": 30,
    "frequency": 10,
    "silence": 25,
    "late": 20,
    "overdue": 5,
    "tickets": 10,
    "sla": 10,
    "rating": 10,
}
DOWN_SHARE = 0.2  # revenue or orders down by a fifth or more: the trend turns down
MIN_REVENUE_BEFORE = 1.0  # below this, no revenue trend is drawn


@dataclass
class Health:
    score: int
    trend: str  # "up", "steady" or "down"
    reasons: list = field(default_factory=list)  # [(penalty, text)], the biggest first


def _drop(recent, before):
    """How far ``recent`` fell below ``before`` (0 to 1), 0 when it did not fall."""
    if not before or before < MIN_REVENUE_BEFORE:
        return 0.0
    return max(0.0, min(1.0, (before - (recent or 0.0)) / before))


def assess(facts, _, money=str):
    """The :class:`Health` of one customer from its ``facts`` (see the module's docstring).

    ``_`` translates (the caller's ``env._``), ``money`` formats an amount.
    """
    reasons = []

    def take(kind, share, text):
        points = round(WEIGHTS[kind] * max(0.0, min(1.0, share)))
        if points > 0:
            reasons.append((points, text))

    revenue_recent, revenue_before = facts.get("revenue_recent") or 0.0, facts.get("revenue_before") or 0.0
    revenue_drop = _drop(revenue_recent, revenue_before)
    if revenue_drop:
        take(
            "revenue",
            revenue_drop,
            _(
                "Revenue down %(share)s%% (%(recent)s against %(before)s the period before).",
                share=round(revenue_drop * 100),
                recent=money(revenue_recent),
                before=money(revenue_before),
            ),
        )
    orders_recent, orders_before = facts.get("orders_recent") or 0, facts.get("orders_before") or 0
    orders_drop = _drop(orders_recent, orders_before)
    if orders_drop:
        take(
            "frequency",
            orders_drop,
            _("%(recent)s orders against %(before)s the period before.", recent=orders_recent, before=orders_before),
        )
    since, rhythm = facts.get("days_since_order"), facts.get("rhythm_days")
    if since is not None and rhythm:
        overdue_ratio = since / rhythm
        if overdue_ratio > 1.5:
            # Twice the usual silence takes a third of the weight, four times all of it.
            take(
                "silence",
                (overdue_ratio - 1.0) / 3.0,
                _(
                    "No order for %(days)s days; this customer usually orders every %(rhythm)s days.",
                    days=round(since),
                    rhythm=round(rhythm),
                ),
            )
    due, late = facts.get("invoices_due") or 0, facts.get("invoices_late") or 0
    if due and late:
        take(
            "late",
            late / due,
            _("%(late)s of the %(due)s invoices due this year were paid late or are unpaid.", late=late, due=due),
        )
    if (facts.get("overdue_amount") or 0.0) > 0:
        # No amount in the words: they are shown to whoever reads the customer, and the
        # accounting groups keep the amounts to themselves.
        take("overdue", 1.0, _("Invoices overdue."))
    tickets = facts.get("tickets_open") or 0
    if tickets:
        take("tickets", tickets / 4.0, _("%(count)s tickets open.", count=tickets))
    failed = facts.get("tickets_failed") or 0
    if failed:
        take("sla", failed / 2.0, _("%(count)s tickets missed their SLA lately.", count=failed))
    rating, ratings = facts.get("rating_avg"), facts.get("rating_count") or 0
    if ratings and rating is not None and rating < 3.5:
        # 3.5 and above is content; 1 (the worst) takes the whole weight.
        take(
            "rating",
            (3.5 - rating) / 2.5,
            _("Satisfaction %(rating)s out of 5 over %(count)s ratings.", rating=f"{rating:.1f}", count=ratings),
        )
    reasons.sort(key=lambda reason: -reason[0])
    score = max(0, 100 - sum(points for points, _text in reasons))
    if revenue_drop >= DOWN_SHARE or orders_drop >= DOWN_SHARE:
        trend = "down"
    elif revenue_recent > revenue_before * (1 + DOWN_SHARE) or orders_recent > orders_before * (1 + DOWN_SHARE):
        trend = "up"
    else:
        trend = "steady"
    return Health(score, trend, reasons)
