#!/usr/bin/env python3
"""Quote-to-cash benchmark (``make bench-q2c``): accepted quotations taken to cash.

Usage: ``python3 bench/bench_q2c.py -c CONF [--orders 1000] [--batch 20] [--latency-orders 120]
[--rate 1] [--ways standard,batched,bare,runner] [--skip-standard] [--skip-latency] [--latency-only]
[--reuse] [--keep]``

One database of ``--orders`` quotations of 5 lines (a storable product invoiced on order, a
storable invoiced on delivery, a consumable, two services; a 15% tax and a 10% tax included in
the price) for 50 customers is made once, then copied (``CREATE DATABASE ... TEMPLATE``) for
each way of taking them to cash, each run in a process of its own (its peak memory is its own):

- ``standard``: Odoo's way, one order at a time through the methods a user's clicks call
  (``action_confirm``, ``button_validate``, ``_create_invoices``, ``action_post``, the payment
  register wizard), a commit per order;
- ``batched``: the same calls on recordsets of ``--batch`` orders, a commit per batch;
- ``bare``: the Odoo calls the runner makes, on the same inputs (payments registered before,
  each naming its order), batch by batch, with none of the runner's bookkeeping: what the
  runner's own work (claiming, checks, history, chatter, state) is measured against;
- ``runner``: this addon. The customers' payments are registered first (bank transfers naming
  the order, timed apart), the acceptances recorded, then the runner takes the orders
  (``_q2c_run``, batches of ``--batch``). The time spent inside the same Odoo calls as above is
  measured too, with the flush of their pending writes when a step's savepoint closes (the bare
  calls flush them at their commit): the rest is the runner's own bookkeeping (claiming, checks,
  history, chatter, state). The headline for that bookkeeping is still the runner's time against
  the bare calls' in the same run.

For each: orders per minute end to end (confirmed, delivered, invoiced, posted, paid), queries
per order, peak RSS; and whether the journal entries of ``standard`` and ``runner`` are the same.

Then the latency part: a real Odoo server with two cron threads on another copy, acceptances
recorded at ``--rate`` per second for ``--latency-orders`` orders; the crons are woken by their
triggers, not a polling interval. Printed: acceptance to confirmed order, and confirmed to paid
(posted invoice, reconciled payment), median and 95th percentile.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import ROOT, arg, copy_database, count_all_queries, drop_database, fresh_database, odoo_env, peak_rss_mb

sys.path.insert(0, str(ROOT / "tools"))
import suite  # noqa: E402

BASE_DB = "crm_suite_bench_q2c"
MODULES = ["sale_quote_to_cash"]
VARIANTS = ("standard", "batched", "bare", "runner")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def make_data(env, orders):
    from odoo import Command  # noqa: PLC0415

    company = env.company
    tax_15 = env["account.tax"].create(
        {"name": "Bench 15%", "amount": 15.0, "type_tax_use": "sale", "company_id": company.id}
    )
    tax_10_included = env["account.tax"].create(
        {
            "name": "Bench 10% included",
            "amount": 10.0,
            "type_tax_use": "sale",
            "price_include_override": "tax_included",
            "company_id": company.id,
        }
    )

    def product(name, price, cost, kind="consu", storable=False, policy="order", tax=tax_15):
        return env["product.product"].create(
            {
                "name": name,
                "type": kind,
                "is_storable": storable,
                "invoice_policy": policy,
                "list_price": price,
                "standard_price": cost,
                "taxes_id": [Command.set(tax.ids)],
            }
        )

    products = [
        product("Bench desk", 320.0, 190.0, storable=True, policy="order"),
        product("Bench chair", 85.0, 41.0, storable=True, policy="delivery"),
        product("Bench cable", 4.9, 1.1, tax=tax_10_included),
        product("Bench installation", 120.0, 0.0, kind="service"),
        product("Bench support plan", 49.0, 0.0, kind="service", tax=tax_10_included),
    ]
    stock = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1).lot_stock_id
    env["stock.quant"].with_context(inventory_mode=True).create(
        [{"product_id": p.id, "location_id": stock.id, "inventory_quantity": 10 * orders + 100} for p in products[:2]]
    ).action_apply_inventory()
    customers = env["res.partner"].create(
        [{"name": f"Bench customer {i:02d}", "email": f"bench{i}@example.com"} for i in range(50)]
    )
    env["sale.q2c.profile"].search([]).write({"active": False})
    profile = env["sale.q2c.profile"].create(
        {
            "name": "Bench",
            "company_id": company.id,
            "credit_check": "approval",
            "auto_deliver": True,
            "auto_send": False,
            "start_on_confirm": False,
        }
    )
    company.q2c_profile_id = profile
    quantities = (1, 3, 5, 2, 1)
    vals = []
    for i in range(orders):
        vals.append(
            {
                "partner_id": customers[i % len(customers)].id,
                "order_line": [
                    Command.create({"product_id": p.id, "product_uom_qty": q + (i % 3)})
                    for p, q in zip(products, quantities, strict=True)
                ],
            }
        )
    created = env["sale.order"]
    for start in range(0, orders, 200):
        created |= env["sale.order"].create(vals[start : start + 200])
    created.write({"state": "sent"})
    env["ir.config_parameter"].set_param("sale_quote_to_cash.batch_size", "20")


def ensure_base(conf, orders, reuse):
    if reuse:
        suite.RUN_CONF = Path(conf)
        if suite.database_exists(BASE_DB):
            print(f"reusing {BASE_DB}")
            return
    install = fresh_database(conf, BASE_DB, MODULES)
    started = time.perf_counter()
    with odoo_env(conf, BASE_DB) as env:
        make_data(env, orders)
        env.cr.commit()
    print(f"data: installed in {install:.0f} s, {orders} quotations made in {time.perf_counter() - started:.0f} s")


# ---------------------------------------------------------------------------
# The three ways, each in its own process (--variant)
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def odoo_call_clock(env):
    """Time spent inside Odoo's own steps (the calls a user's clicks make), nested calls counted once."""
    targets = [
        (type(env["sale.order"]), "action_confirm"),
        (type(env["sale.order"]), "_create_invoices"),
        (type(env["stock.picking"]), "action_assign"),
        (type(env["stock.picking"]), "button_validate"),
        (type(env["account.move"]), "action_post"),
        (type(env["account.move.line"]), "reconcile"),
        (type(env["account.move.line"]), "_reconcile_plan"),
        (type(env["crm.lead"]), "action_set_won"),
        (type(env["sale.order"]), "action_lock"),
    ]
    figures = {"seconds": 0.0, "depth": 0}
    originals = []

    def wrap(original):
        def timed(self, *args, **kwargs):
            figures["depth"] += 1
            started = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                figures["depth"] -= 1
                if not figures["depth"]:
                    figures["seconds"] += time.perf_counter() - started

        return timed

    for cls, name in targets:
        original = getattr(cls, name)
        originals.append((cls, name, original))
        setattr(cls, name, wrap(original))
    # The writes those calls leave pending are flushed when the runner's step savepoint closes
    # (the bare calls flush them at their commit): timed apart, as Odoo's work done later.
    from odoo import sql_db  # noqa: PLC0415

    figures["flush_s"] = 0.0
    flush = sql_db.BaseCursor.flush

    def timed_flush(cr):
        started = time.perf_counter()
        try:
            return flush(cr)
        finally:
            if not figures["depth"]:
                figures["flush_s"] += time.perf_counter() - started

    close = sql_db._FlushingSavepoint._close

    def timed_close(savepoint, rollback):
        sql_db.BaseCursor.flush = timed_flush
        try:
            return close(savepoint, rollback)
        finally:
            sql_db.BaseCursor.flush = flush

    sql_db._FlushingSavepoint._close = timed_close
    try:
        yield figures
    finally:
        sql_db._FlushingSavepoint._close = close
        for cls, name, original in originals:
            setattr(cls, name, original)


def deliver(pickings):
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
    pickings.move_ids.picked = True
    pickings.with_context(skip_backorder=True, skip_sms=True).button_validate()


def register_payments(env, invoices):
    env["account.payment.register"].with_context(active_model="account.move", active_ids=invoices.ids).create(
        {"group_payment": False}
    )._create_payments()


def run_standard(env, orders):
    for order in orders:
        order.action_confirm()
        deliver(order.picking_ids)
        invoice = order._create_invoices()
        invoice.action_post()
        register_payments(env, invoice)
        env.cr.commit()


def run_batched(env, orders, batch):
    for start in range(0, len(orders), batch):
        chunk = orders[start : start + batch]
        chunk.action_confirm()
        deliver(chunk.picking_ids)
        invoices = chunk._create_invoices(grouped=True)
        invoices.action_post()
        register_payments(env, invoices)
        env.cr.commit()


def run_bare(env, orders, batch):
    payments = env["account.payment"].search([("memo", "in", orders.mapped("name"))])
    payment_of = {payment.memo: payment for payment in payments}
    for start in range(0, len(orders), batch):
        chunk = orders[start : start + batch]
        chunk.action_confirm()
        pickings = chunk.picking_ids.filtered(lambda p: p.state == "assigned")
        pickings.move_ids.filtered(lambda m: m.quantity and not m.picked).picked = True
        pickings.with_context(skip_backorder=True, picking_ids_not_to_backorder=[], skip_sms=True).button_validate()
        invoices = chunk._create_invoices(grouped=True, final=True)
        invoices.action_post()
        plan = [
            (invoice.line_ids | payment_of[invoice.invoice_origin].move_id.line_ids).filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            )
            for invoice in invoices
        ]
        env["account.move.line"]._reconcile_plan(plan)
        chunk.action_lock()
        env.cr.commit()


def customer_payments(env, orders):
    """The customers' bank transfers, each naming its order (registered before the runner)."""
    journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1)
    payments = env["account.payment"].create(
        [
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": order.partner_id.id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "journal_id": journal.id,
                "memo": order.name,
            }
            for order in orders
        ]
    )
    payments.action_post()
    env.cr.commit()


def variant_main(conf, dbname, variant, batch):
    with odoo_env(conf, dbname) as env:
        orders = env["sale.order"].search([("state", "=", "sent")], order="id")
        figures = {"variant": variant, "orders": len(orders)}
        with count_all_queries() as counter:
            if variant in ("runner", "bare"):
                started = time.perf_counter()
                customer_payments(env, orders)
                figures["payments_s"] = time.perf_counter() - started
            before = counter["queries"]
            if variant == "runner":
                started = time.perf_counter()
                for chunk_start in range(0, len(orders), 50):
                    chunk = orders[chunk_start : chunk_start + 50]
                    chunk._q2c_record_acceptance("email", "Bench buyer")
                    env.cr.commit()
                figures["accept_ms_per_order"] = (time.perf_counter() - started) * 1000 / len(orders)
                before = counter["queries"]
                started = time.perf_counter()
                with odoo_call_clock(env) as inside:
                    env["sale.order"]._q2c_run(batch_size=batch)
                figures["seconds"] = time.perf_counter() - started
                figures["odoo_calls_s"] = inside["seconds"]
                figures["step_flush_s"] = inside["flush_s"]
                figures["run_queries"] = counter["queries"] - before
            else:
                started = time.perf_counter()
                if variant == "standard":
                    run_standard(env, orders)
                elif variant == "bare":
                    run_bare(env, orders, batch)
                else:
                    run_batched(env, orders, batch)
                figures["seconds"] = time.perf_counter() - started
                figures["run_queries"] = counter["queries"] - before
            figures["queries"] = counter["queries"]
        env.invalidate_all()
        invoices = orders.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        figures["paid"] = sum(
            1
            for order in orders
            if order.invoice_ids and all(inv.payment_state in ("paid", "in_payment") for inv in order.invoice_ids)
        )
        figures["delivered"] = sum(1 for order in orders if all(p.state == "done" for p in order.picking_ids))
        figures["invoices"] = len(invoices)
        figures["entries"] = journal_totals(env, invoices)
        figures["peak_rss_mb"] = peak_rss_mb()
    print("FIGURES " + json.dumps(figures))


def journal_totals(env, invoices):
    """Debit and credit per account over the invoices and the payments that paid them."""
    payments = invoices.matched_payment_ids | invoices.reconciled_payment_ids
    lines = invoices.line_ids | payments.move_id.line_ids
    totals = {}
    for line in lines:
        code = line.account_id.code
        debit, credit = totals.get(code, (0.0, 0.0))
        totals[code] = (round(debit + line.debit, 2), round(credit + line.credit, 2))
    return totals


def run_variant(conf, variant, batch):
    dbname = f"{BASE_DB}_{variant}"
    copy_database(conf, BASE_DB, dbname)
    proc = subprocess.run(
        [sys.executable, __file__, "-c", str(conf), "--variant", variant, "--db", dbname, "--batch", str(batch)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FIGURES ")), None)
    if proc.returncode or not line:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
        raise SystemExit(f"the {variant} run failed")
    return dbname, json.loads(line[len("FIGURES ") :])


# ---------------------------------------------------------------------------
# Latency through a real server and its cron triggers
# ---------------------------------------------------------------------------


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(share * (len(values) - 1))))
    return values[index]


def latency(conf, count, rate):
    dbname = f"{BASE_DB}_latency"
    copy_database(conf, BASE_DB, dbname)
    with odoo_env(conf, dbname) as env:
        orders = env["sale.order"].search([("state", "=", "sent")], order="id", limit=count)
        customer_payments(env, orders)
        env["ir.cron"].search([]).filtered(lambda c: "Quote to cash" not in (c.name or "")).write({"active": False})
        env.cr.commit()
        order_ids = orders.ids
    port = free_port()
    server = subprocess.Popen(
        [
            *suite.odoo_cmd(),
            "-c",
            str(conf),
            "-d",
            dbname,
            f"--db-filter=^{dbname}$",
            "--max-cron-threads=2",
            f"--http-port={port}",
            "--log-level=warn",
        ],
        cwd=ROOT,
    )
    accepted, confirmed, paid = {}, {}, {}
    stop = threading.Event()

    def watch():
        """Every 50 ms, which orders the crons have confirmed and taken to cash (a snapshot per query)."""
        with contextlib.closing(suite.db_connection(dbname)) as conn, conn.cursor() as cr:
            while not stop.is_set():
                cr.execute("SELECT id, state, q2c_paid_on IS NOT NULL FROM sale_order WHERE id = ANY(%s)", [order_ids])
                now = time.perf_counter()
                for oid, state, is_paid in cr.fetchall():
                    if state == "sale":
                        confirmed.setdefault(oid, now)
                    if is_paid:
                        paid.setdefault(oid, now)
                if len(paid) == len(order_ids):
                    return
                time.sleep(0.05)

    try:
        time.sleep(8)  # the server loads its registry and its cron threads start listening
        watcher = threading.Thread(target=watch)
        watcher.start()
        with odoo_env(conf, dbname) as env:
            started = time.perf_counter()
            for index, oid in enumerate(order_ids):
                env["sale.order"].browse(oid)._q2c_record_acceptance("phone", "Bench buyer")
                env.cr.commit()
                accepted[oid] = time.perf_counter()
                pause = started + (index + 1) / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
        watcher.join(600)
    finally:
        stop.set()
        server.terminate()
        server.wait(30)
    to_confirm = [confirmed[oid] - accepted[oid] for oid in order_ids if oid in confirmed]
    to_paid = [paid[oid] - confirmed[oid] for oid in order_ids if oid in paid and oid in confirmed]
    return dbname, {
        "orders": len(order_ids),
        "paid": len(to_paid),
        "confirm_p50": percentile(to_confirm, 0.5),
        "confirm_p95": percentile(to_confirm, 0.95),
        "paid_p50": percentile(to_paid, 0.5),
        "paid_p95": percentile(to_paid, 0.95),
    }


# ---------------------------------------------------------------------------


def compare(results):
    """The summary figures of the ways run, printed as they are worked out."""
    summary = {}
    runner = results["runner"]
    summary["runner_per_min"] = runner["orders"] / runner["seconds"] * 60
    summary["runner_queries_per_order"] = runner["run_queries"] / runner["orders"]
    summary["runner_rss_mb"] = runner["peak_rss_mb"]
    odoo_s = runner["odoo_calls_s"] + runner["step_flush_s"]
    summary["runner_bookkeeping_pct"] = (runner["seconds"] - odoo_s) / odoo_s * 100
    bare = results["bare"]
    summary["bare_per_min"] = bare["orders"] / bare["seconds"] * 60
    summary["bare_queries_per_order"] = bare["run_queries"] / bare["orders"]
    summary["runner_over_bare_pct"] = (runner["seconds"] / bare["seconds"] - 1) * 100
    summary["same_entries_as_bare"] = bare["entries"] == runner["entries"]
    print(
        f"the runner against the bare calls on the same inputs: {summary['runner_over_bare_pct']:+.1f}% time, "
        f"{summary['runner_queries_per_order'] - summary['bare_queries_per_order']:+.1f} queries/order; "
        f"journal entries {'the same' if summary['same_entries_as_bare'] else 'DIFFERENT'}"
    )
    batched = results["batched"]
    summary["batched_per_min"] = batched["orders"] / batched["seconds"] * 60
    summary["batched_queries_per_order"] = batched["run_queries"] / batched["orders"]
    if "standard" in results:
        standard = results["standard"]
        summary["standard_per_min"] = standard["orders"] / standard["seconds"] * 60
        summary["standard_queries_per_order"] = standard["run_queries"] / standard["orders"]
        summary["standard_rss_mb"] = standard["peak_rss_mb"]
        summary["speedup"] = summary["runner_per_min"] / summary["standard_per_min"]
        summary["same_entries"] = standard["entries"] == runner["entries"]
        print(f"journal entries, standard vs runner: {'the same' if summary['same_entries'] else 'DIFFERENT'}")
        if not summary["same_entries"]:
            for code in sorted(set(standard["entries"]) | set(runner["entries"])):
                print(f"  {code}: standard {standard['entries'].get(code)} runner {runner['entries'].get(code)}")
    return summary


def main(argv):
    conf = Path(arg(argv, "-c", str(ROOT / ".local" / "odoo.conf")))
    batch = int(arg(argv, "--batch", 20))
    if "--variant" in argv:
        variant_main(conf, arg(argv, "--db"), arg(argv, "--variant"), batch)
        return 0
    orders = int(arg(argv, "--orders", 1000))
    ensure_base(conf, orders, "--reuse" in argv)
    results, made = {}, []
    summary = {}
    ways = arg(argv, "--ways", ",".join(VARIANTS)).split(",")
    for variant in () if "--latency-only" in argv else [v for v in VARIANTS if v in ways]:
        if variant == "standard" and "--skip-standard" in argv:
            continue
        dbname, figures = run_variant(conf, variant, batch)
        made.append(dbname)
        results[variant] = figures
        rate = figures["orders"] / figures["seconds"] * 60
        line = (
            f"{variant:9s} {figures['orders']} orders in {figures['seconds']:.1f} s = {rate:.1f} orders/min, "
            f"{figures['run_queries'] / figures['orders']:.1f} queries/order, "
            f"peak RSS {figures['peak_rss_mb']:.0f} MB; "
            f"paid {figures['paid']}, delivered {figures['delivered']}, {figures['invoices']} invoices"
        )
        if variant == "runner":
            odoo_s = figures["odoo_calls_s"] + figures["step_flush_s"]
            own = figures["seconds"] - odoo_s
            line += (
                f"\n          inside Odoo's calls {figures['odoo_calls_s']:.1f} s and their writes flushed at "
                f"the step savepoints {figures['step_flush_s']:.1f} s; the runner's own bookkeeping "
                f"{own:.1f} s (+{own / odoo_s * 100:.1f}%); payments registered before "
                f"{figures['payments_s']:.1f} s; acceptance {figures['accept_ms_per_order']:.1f} ms/order"
            )
        print(line, flush=True)
    if "runner" in results and "bare" in results and "batched" in results:
        summary.update(compare(results))
    if "--skip-latency" not in argv:
        dbname, lat = latency(conf, int(arg(argv, "--latency-orders", 120)), float(arg(argv, "--rate", 1)))
        made.append(dbname)
        print(
            f"latency  {lat['orders']} acceptances at {arg(argv, '--rate', 1)}/s through the crons: accepted to "
            f"confirmed p50 {lat['confirm_p50']:.2f} s p95 {lat['confirm_p95']:.2f} s; confirmed to paid p50 "
            f"{lat['paid_p50']:.2f} s p95 {lat['paid_p95']:.2f} s ({lat['paid']} paid)"
        )
        summary.update({f"latency_{k}": v for k, v in lat.items() if k not in ("orders",)})
    if "--keep" not in argv:
        for dbname in made:
            drop_database(conf, dbname)
    print("q2c: " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
