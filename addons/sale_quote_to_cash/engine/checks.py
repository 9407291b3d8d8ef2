"""Checks before confirmation, as plain arithmetic on figures the model gathers set-based."""

from dataclasses import dataclass

BLOCK = "block"
APPROVAL = "approval"


@dataclass
class Finding:
    """A reason not to confirm: ``mode`` says whether it blocks or waits for a manager."""

    check: str
    mode: str
    message: str
    hint: str


def credit_exceeded(limit, open_invoices, open_orders, order_amount):
    """The amount by which the order takes the customer over ``limit`` (0.0 when it does not).

    A limit of zero or less means no limit.
    """
    if limit <= 0:
        return 0.0
    return max(open_invoices + open_orders + order_amount - limit, 0.0)


def allocate(demands, available):
    """Give the stock to the orders in the order they come; return the shortages.

    :param demands: ``[(order_id, key, quantity)]`` in priority order; ``key`` is what the
        availability is counted by (a product in a warehouse at a date).
    :param available: ``{key: quantity}``; consumed as orders take it.
    :return: ``{order_id: [(key, wanted, free)]}`` for the orders that do not get everything.
    """
    left = dict(available)
    wanted = {}
    for order_id, key, quantity in demands:
        wanted.setdefault(order_id, {}).setdefault(key, 0.0)
        wanted[order_id][key] += quantity
    shortages = {}
    for order_id, per_key in wanted.items():
        short = [
            (key, qty, max(left.get(key, 0.0), 0.0)) for key, qty in per_key.items() if qty > left.get(key, 0.0) + 1e-9
        ]
        if short:
            shortages[order_id] = short
            continue
        for key, qty in per_key.items():
            left[key] = left.get(key, 0.0) - qty
    return shortages


def margin_percent(revenue, cost):
    """Margin as a share of revenue, in percent; ``None`` when there is no revenue to measure it on."""
    if revenue <= 0:
        return None
    return (revenue - cost) / revenue * 100.0
