#!/usr/bin/env python3
"""Customer 360 benchmark (``make bench-360``): the summary whatever the history, and the health cron.

Usage: ``python3 bench/bench_360.py -c CONF [--customers 50000] [--sample 500] [--reuse] [--keep]
[--demo-leads 300,5000] [--seeds 5] [--skip-scoring | --scoring-only]``

On one database with ``crm_customer_360`` installed:

- three customers with 10, 1,000 and 10,000 confirmed orders, as many posted invoices, a tenth as
  many tickets and open deliveries (one of each made through the ORM, the rest copied in SQL:
  what is measured is reading them). For each: the queries and the time to compute the 360
  summary (cold cache), and, in the same run, the same for the figures Odoo's own partner
  form computes for its smart buttons (``sale_order_count``, ``total_invoiced``,
  ``opportunity_count``, the receivable ``credit``);
- ``--customers`` customers (50,000 by default), each with two confirmed orders (about 100 and
  200 days ago), an unpaid invoice that fell due in the last 60 days, and a ticket for one in
  five: the health cron (``res.partner._cron_c360_health``, batches of 1,000, a commit each) over
  all of them: customers per second, queries per customer, peak RSS; and Odoo's own way of
  reading the same facts, a ``search`` per customer and kind of document through the ORM, on a
  sample of ``--sample`` customers of the same data, against this addon's set-based reading of
  the same sample.

- what the ERP facts add to lead scoring on the demo data: the suite installed with its demo data
  and the demo generator (``tools/datagen.py``, ``--demo-leads`` leads, 300 by default as for
  ``make demo``) in another database; the company's closed leads learnt with and without the ERP
  facts on the same holdout, for ``--seeds`` splits (5 by default): the holdout AUC of each, and
  what the trained model's quality report says; then the same with the generator's ``medium``
  size (5,000 leads), where a holdout is large enough to tell a small gain from the noise
  (``--demo-leads 300,5000`` by default; ``--skip-scoring`` leaves this part out).

``--reuse`` keeps the database between runs (the health dates are reset before the run).
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

from _common import arg, count_all_queries, drop_database, fresh_database, odoo_env, peak_rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import suite  # noqa: E402

DB = "crm_suite_bench_360"
DB_DEMO = "crm_suite_bench_360_demo"
SUITE = ["crm_lead_scoring", "support_desk", "sale_quote_to_cash", "crm_customer_360"]
SIZES = (10, 1000, 10000)


# ---------------------------------------------------------------------------
# Data: one document of each kind through the ORM, copies in SQL
# ---------------------------------------------------------------------------


def columns_of(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def analyze(cr, table):
    """Fresh planner statistics after a bulk copy: with the ones of the empty table, the joins of
    the next statements over the copies are planned as nested loops over sequential scans."""
    cr.execute(f'ANALYZE "{table}"')


def clone_rows(cr, table, template_id, rows, param, overrides):
    """Copies of row ``template_id`` of ``table``, one per row ``p`` of the SQL ``rows`` (given
    ``param``; ``p.g`` is its rank); ``overrides`` maps a column to an SQL expression of ``p`` and
    of the template row ``t``. Returns the new ids in order."""
    cols = columns_of(cr, table)
    select = ", ".join(overrides.get(c, f't."{c}"') for c in cols)
    cr.execute(
        f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)}) '  # noqa: S608
        f'WITH t AS MATERIALIZED (SELECT * FROM "{table}" WHERE id = %s) '
        f"SELECT {select} FROM t, {rows} ORDER BY p.g RETURNING id",
        [template_id, param],
    )
    ids = [row[0] for row in cr.fetchall()]
    analyze(cr, table)
    return ids


def clone(cr, table, template_id, count, overrides):
    """``count`` copies of row ``template_id`` (``p.g``: 1..count)."""
    return clone_rows(cr, table, template_id, "generate_series(1, %s) AS p(g)", count, overrides)


def clone_for(cr, table, template_id, partner_ids, overrides):
    """A copy of row ``template_id`` per id of ``partner_ids`` (``p.id``, its rank ``p.g``)."""
    return clone_rows(cr, table, template_id, "unnest(%s::int[]) WITH ORDINALITY AS p(id, g)", partner_ids, overrides)


def clone_children(cr, table, fk, template_parent, new_parents, overrides=None):
    """The rows of ``table`` whose ``fk`` is ``template_parent``, copied for each of ``new_parents``."""
    cols = [c for c in columns_of(cr, table) if c != fk]
    overrides = overrides or {}
    select = ", ".join(overrides.get(c, f't."{c}"') for c in cols)
    cr.execute(
        f'INSERT INTO "{table}" ("{fk}", {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)}) '  # noqa: S608
        f'WITH t AS MATERIALIZED (SELECT * FROM "{table}" WHERE "{fk}" = %s) '
        f"SELECT p.id, {select} FROM t, unnest(%s::int[]) WITH ORDINALITY AS p(id, g)",
        [template_parent, new_parents],
    )
    analyze(cr, table)


def make_templates(env, partner, with_ticket=True):
    """A confirmed order with its open delivery, a posted invoice, a ticket: one of each."""
    from odoo import Command  # noqa: PLC0415

    product = env.ref("crm_customer_360.bench_product", raise_if_not_found=False)
    if not product:
        product = env["product.product"].create(
            {"name": "Bench storable", "type": "consu", "is_storable": True, "list_price": 100.0, "taxes_id": False}
        )
        env["ir.model.data"].create(
            {"module": "crm_customer_360", "name": "bench_product", "model": "product.product", "res_id": product.id}
        )
    order = env["sale.order"].create(
        {
            "partner_id": partner.id,
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
        }
    )
    order.action_confirm()
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_line_ids": [
                Command.create({"name": "Work", "quantity": 1, "price_unit": 100.0, "tax_ids": False})
            ],
        }
    )
    invoice.action_post()
    ticket = env["support.ticket"].create({"name": "Bench ticket", "partner_id": partner.id}) if with_ticket else None
    return order, invoice, ticket


def copy_history(env, partner, orders, invoices, tickets, deliveries, spread_days=720):
    """``orders`` orders (dated over ``spread_days``), ``invoices`` invoices, ``tickets`` tickets and
    ``deliveries`` open deliveries for ``partner``, by copying one of each."""
    cr = env.cr
    order, invoice, ticket = make_templates(env, partner, with_ticket=bool(tickets))
    env.flush_all()
    if orders > 1:
        new = clone(
            cr,
            "sale_order",
            order.id,
            orders - 1,
            {"name": "t.name || '/' || p.g", "date_order": f"t.date_order - (p.g %% {spread_days}) * INTERVAL '1 day'"},
        )
        clone_children(cr, "sale_order_line", "order_id", order.id, new)
    if invoices > 1:
        new = clone(
            cr,
            "account_move",
            invoice.id,
            invoices - 1,
            {
                "name": "t.name || '/' || p.g",
                "invoice_date": "t.invoice_date - (p.g %% 700) * INTERVAL '1 day'",
                "invoice_date_due": "t.invoice_date_due - (p.g %% 700) * INTERVAL '1 day'",
                "date": "t.date - (p.g %% 700) * INTERVAL '1 day'",
            },
        )
        clone_children(cr, "account_move_line", "move_id", invoice.id, new)
    if tickets > 1:
        clone(cr, "support_ticket", ticket.id, tickets - 1, {"number": "t.number || '/' || p.g"})
    picking = order.picking_ids[:1]
    if deliveries > 1 and picking:
        clone(cr, "stock_picking", picking.id, deliveries - 1, {"name": "t.name || '/' || p.g"})
    env.invalidate_all()


def make_data(env, customers):
    company = env.company
    partners = env["res.partner"].create(
        [{"name": f"Customer of {size} orders", "is_company": True, "customer_rank": 1} for size in SIZES]
    )
    for size, partner in zip(SIZES, partners, strict=True):
        started = time.perf_counter()
        copy_history(env, partner, size, size, max(1, size // 10), max(1, size // 10))
        env.cr.commit()
        print(f"data: customer of {size} orders made in {time.perf_counter() - started:.1f} s", flush=True)

    # The health population: copies of one customer whose history has three orders and two invoices.
    started = last = time.perf_counter()

    def step(label):
        nonlocal last
        now = time.perf_counter()
        print(f"data:   {label} in {now - last:.1f} s", flush=True)
        last = now

    template = env["res.partner"].create({"name": "Health customer", "is_company": True, "customer_rank": 1})
    order, invoice, ticket = make_templates(env, template)
    env.flush_all()
    cr = env.cr
    ids = clone(cr, "res_partner", template.id, customers - 1, {"name": "t.name || ' ' || p.g", "email": "NULL"})
    cr.execute(
        "UPDATE res_partner p SET commercial_partner_id = p.id, complete_name = p.name"
        " FROM unnest(%s::int[]) AS u(id) WHERE p.id = u.id",
        [ids],
    )
    all_ids = [template.id, *ids]
    step(f"{customers} customers")
    for days in (200, 100):
        clone_for(
            cr,
            "sale_order",
            order.id,
            all_ids,
            {
                "name": f"'H' || p.id || '-{days}'",
                "partner_id": "p.id",
                "partner_invoice_id": "p.id",
                "partner_shipping_id": "p.id",
                "date_order": f"now() - INTERVAL '{days} days' - (p.id %% 30) * INTERVAL '1 day'",
                "amount_untaxed": "80 + p.id %% 50",
                "amount_total": "80 + p.id %% 50",
            },
        )
    step(f"{2 * customers} orders")
    moves = clone_for(
        cr,
        "account_move",
        invoice.id,
        ids,
        {
            "name": "t.name || '/H' || p.g",
            "partner_id": "p.id",
            "commercial_partner_id": "p.id",
            "invoice_date_due": "t.invoice_date_due - (p.g %% 60) * INTERVAL '1 day'",
        },
    )
    clone_children(cr, "account_move_line", "move_id", invoice.id, moves)
    cr.execute(
        "UPDATE account_move_line l SET partner_id = m.partner_id FROM account_move m, unnest(%s::int[]) AS u(id)"
        " WHERE l.move_id = m.id AND m.id = u.id",
        [moves],
    )
    step(f"{len(moves)} invoices")
    clone_for(
        cr,
        "support_ticket",
        ticket.id,
        all_ids[5::5],
        {"number": "t.number || '/H' || p.g", "partner_id": "p.id", "commercial_partner_id": "p.id"},
    )
    env.cr.commit()
    print(f"data: {customers} customers for the health cron made in {time.perf_counter() - started:.1f} s", flush=True)
    return company


def ensure_database(conf, customers, reuse):
    suite.RUN_CONF = Path(conf)
    if reuse and suite.database_exists(DB):
        print(f"reusing {DB}")
        return
    seconds = fresh_database(conf, DB, ["crm_customer_360"])
    print(f"data: crm_customer_360 installed in {seconds:.0f} s", flush=True)
    with odoo_env(conf, DB) as env:
        make_data(env, customers)


# ---------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------


def measure(env, function):
    env.invalidate_all()
    with count_all_queries() as counter:
        started = time.perf_counter()
        function()
        seconds = time.perf_counter() - started
    return counter["queries"], seconds


def summaries(env):
    print("360 summary (cold cache, as the administrator), against the figures of Odoo's own partner form:")
    env = env(user=env.ref("base.user_admin"))
    # One read first, of a customer not measured: what is measured is the customer's history, not
    # the first load of the models' metadata and of the rules into the caches.
    warm_up = env["res.partner"].search([("name", "=", "Health customer")], limit=1)
    measure(env, lambda: warm_up.browse(warm_up.id).c360_summary)
    measure(env, lambda: warm_up.browse(warm_up.id).read(["sale_order_count", "total_invoiced", "credit"]))
    for size in SIZES:
        partner = env["res.partner"].search([("name", "=", f"Customer of {size} orders")], limit=1)
        queries, seconds = measure(env, lambda p=partner: p.browse(p.id).c360_summary)
        summary = partner.c360_summary
        odoo_queries, odoo_seconds = measure(
            env,
            lambda p=partner: p.browse(p.id).read(
                ["sale_order_count", "total_invoiced", "opportunity_count", "credit", "debit"]
            ),
        )
        print(
            f"  {size:6d} orders: {queries} queries in {seconds * 1000:.0f} ms "
            f"({summary['orders']} orders, {summary['invoices_open_count']} open invoices, "
            f"{summary['tickets']} tickets, {summary['deliveries']} deliveries); "
            f"Odoo's smart-button figures: {odoo_queries} queries in {odoo_seconds * 1000:.0f} ms",
            flush=True,
        )


def odoo_way_health_facts(env, partner, now):
    """The same facts through the ORM, one customer at a time (what a per-record compute does)."""
    recent, before = now - timedelta(days=90), now - timedelta(days=180)
    orders = env["sale.order"].search([("partner_id", "child_of", partner.id), ("state", "=", "sale")])
    facts = {
        "revenue_recent": sum(orders.filtered(lambda o: o.date_order >= recent).mapped("amount_untaxed")),
        "revenue_before": sum(orders.filtered(lambda o: before <= o.date_order < recent).mapped("amount_untaxed")),
        "orders_recent": len(orders.filtered(lambda o: o.date_order >= recent)),
        "orders_before": len(orders.filtered(lambda o: before <= o.date_order < recent)),
    }
    invoices = env["account.move"].search(
        [("commercial_partner_id", "=", partner.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted")]
    )
    due = invoices.filtered(lambda m: m.invoice_date_due and m.invoice_date_due < now.date())
    facts["invoices_due"] = len(due)
    facts["invoices_late"] = len(due.filtered(lambda m: m.payment_state in ("not_paid", "partial")))
    facts["overdue_amount"] = sum(due.mapped("amount_residual_signed"))
    facts["tickets_open"] = env["support.ticket"].search_count(
        [("commercial_partner_id", "=", partner.id), ("is_closed", "=", False)]
    )
    return facts


def health(env, customers, sample):
    Partner = env["res.partner"]
    env.cr.execute("UPDATE res_partner SET c360_health_date = NULL")
    env.cr.commit()
    # what the cron will measure: every customer due today, in each company
    todo = Partner._c360_health_due_count(env["res.company"].search([]))  # pylint: disable=no-search-all
    with count_all_queries() as counter:
        started = time.perf_counter()
        measured = Partner._cron_c360_health()
        seconds = time.perf_counter() - started
    env.cr.commit()
    # the health is company-dependent (one value per company): the bench's company's figures
    company = str(env.company.id)
    env.cr.execute(
        "SELECT COUNT(*), AVG((c360_health->>%s)::int), COUNT(*) FILTER (WHERE (c360_churn_risk->>%s)::boolean)"
        " FROM res_partner WHERE c360_health_date->>%s IS NOT NULL",
        [company, company, company],
    )
    _count, average, at_risk = env.cr.fetchone()
    print(
        f"health cron: {measured} customers (of {todo} due) in {seconds:.1f} s = {measured / seconds:.0f} customers/s, "
        f"{counter['queries'] / max(measured, 1):.3f} queries/customer, peak RSS {peak_rss_mb():.0f} MB; "
        f"average health {float(average or 0):.1f}, {at_risk} at churn risk",
        flush=True,
    )
    from odoo import fields  # noqa: PLC0415

    now = fields.Datetime.now()
    partners = Partner.search([("name", "=like", "Health customer %")], limit=sample, order="id")
    env.invalidate_all()
    with count_all_queries() as counter:
        started = time.perf_counter()
        for partner in partners:
            odoo_way_health_facts(env, partner, now)
        odoo_seconds = time.perf_counter() - started
    ours_queries, ours_seconds = measure(env, lambda: Partner._c360_health_facts(partners.ids, now))
    print(
        f"the same facts for {len(partners)} customers: Odoo's way (ORM, per customer) {odoo_seconds:.2f} s, "
        f"{counter['queries'] / len(partners):.1f} queries/customer = {len(partners) / odoo_seconds:.0f} customers/s; "
        f"this addon's {ours_seconds:.3f} s, {ours_queries} queries = {len(partners) / ours_seconds:.0f} customers/s",
        flush=True,
    )
    env.cr.rollback()
    return measured / seconds


def scoring_on_demo(conf, leads, seeds, keep):
    """The company's closed leads of the demo data, learnt with and without the ERP facts."""
    import statistics  # noqa: PLC0415

    import datagen  # noqa: PLC0415

    seconds = fresh_database(conf, DB_DEMO, SUITE, demo=True)
    print(f"scoring: the suite and its demo data installed in {seconds:.0f} s", flush=True)
    with odoo_env(conf, DB_DEMO) as env:
        started = time.perf_counter()
        datagen.generate(env, leads, seed=42, commit=True, score=True)
        print(f"scoring: demo generator ({leads} leads) in {time.perf_counter() - started:.0f} s", flush=True)
        from odoo.addons.crm_customer_360.models.crm_lead import ERP_COLUMNS  # noqa: PLC0415
        from odoo.addons.crm_lead_scoring.engine import model as learning  # noqa: PLC0415

        company = env.company
        Lead = env["crm.lead"].with_company(company)
        closed = Lead._scoring_closed_lead_ids(company, env["crm.team"])
        columns, _ids, won = Lead._scoring_training_data(closed)
        known = sum(1 for value in next(c for c in columns if c.key == "erp_customer").values if value)
        print(
            f"scoring: {len(closed)} closed leads ({sum(won)} won), {known} of them from companies that had "
            f"already bought at the lead's moment",
            flush=True,
        )
        without = [column for column in columns if column.key not in ERP_COLUMNS]
        with_aucs, without_aucs = [], []
        for seed in range(seeds):
            with_aucs.append(learning.train(columns, won, seed=seed)[1]["auc"])
            without_aucs.append(learning.train(without, won, seed=seed)[1]["auc"])
            print(
                f"  split {seed}: holdout AUC {without_aucs[-1]:.3f} without the ERP facts, "
                f"{with_aucs[-1]:.3f} with them",
                flush=True,
            )
        mean_with, mean_without = statistics.mean(with_aucs), statistics.mean(without_aucs)
        print(
            f"scoring: mean holdout AUC over {seeds} splits: {mean_without:.3f} without the ERP facts, "
            f"{mean_with:.3f} with them ({mean_with - mean_without:+.3f})",
            flush=True,
        )
        for model in env["crm.lead.scoring.model"].search([("state", "=", "active")]):
            print(
                f"scoring: model in use for {model.team_id.name or 'the company'}: AUC {model.auc_without_erp:.3f} "
                f"without, {model.auc_with_erp:.3f} with the ERP facts; "
                f"{'uses them' if model.erp_facts_used else 'kept without them'}",
                flush=True,
            )
    if not keep:
        drop_database(conf, DB_DEMO)


def main(argv):
    conf = arg(argv, "-c", str(Path(__file__).resolve().parent.parent / ".local" / "odoo.conf"))
    customers = int(arg(argv, "--customers", "50000"))
    sample = int(arg(argv, "--sample", "500"))
    if "--skip-scoring" not in argv:
        for leads in arg(argv, "--demo-leads", "300,5000").split(","):
            scoring_on_demo(conf, int(leads), int(arg(argv, "--seeds", "5")), "--keep" in argv)
    if "--scoring-only" in argv:
        return 0
    ensure_database(conf, customers, "--reuse" in argv)
    with odoo_env(conf, DB) as env:
        summaries(env)
        rate = health(env, customers, sample)
    print(f"360: health_per_second={rate:.1f}")
    if "--keep" not in argv and "--reuse" not in argv:
        drop_database(conf, DB)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
