from contextlib import contextmanager
from unittest.mock import patch

import psycopg2

from odoo import sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashBatches(Q2cCommon):
    """Commits, crashes and savepoints, with the test transaction standing in for the real ones.

    Each "commit" of the runner releases the savepoint that plays the transaction and opens the
    next one; a crash rolls back to it, as PostgreSQL would roll back the open transaction.
    """

    @contextmanager
    def transactions(self):
        record = {"commits": 0, "progress": [], "savepoints": [0]}
        state = {"sp": self.env.cr.savepoint()}
        original_init = sql_db.Savepoint.__init__

        def counting_init(sp, cr):
            record["savepoints"][-1] += 1
            original_init(sp, cr)

        def fake_commit(model, processed=0, *, remaining=None, deactivate=False):
            self.env.flush_all()
            state["sp"].close(rollback=False)
            record["commits"] += 1
            record["progress"].append((processed, remaining))
            record["savepoints"].append(0)
            state["sp"] = self.env.cr.savepoint()
            return float("inf")

        def crash():
            state["sp"].close(rollback=True)
            self.env.invalidate_all()
            state["sp"] = self.env.cr.savepoint()

        record["crash"] = crash
        IrCron = type(self.env["ir.cron"])
        with (
            patch.object(IrCron, "_commit_progress", fake_commit),
            patch.object(sql_db.Savepoint, "__init__", counting_init),
        ):
            yield record
        state["sp"].close(rollback=False)

    def test_crash_in_the_middle_of_a_batch_resumes_where_it_stopped(self):
        orders = self.env["sale.order"].concat(*(self.quote([(self.service, 1)]) for _ in range(6)))
        self.accept(orders)
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._q2c_step_invoice
        calls = []

        def crashing(model, ids, cache):
            calls.append(list(ids))
            if len(calls) == 3:
                raise psycopg2.OperationalError("server closed the connection unexpectedly")
            return original(model, ids, cache)

        with self.transactions() as tx:
            # Not assertRaises: its own savepoint would sit inside the transactions the runner commits.
            crashed = False
            with patch.object(SaleOrder, "_q2c_step_invoice", crashing):
                try:
                    self.env["sale.order"]._q2c_run(batch_size=2)
                except psycopg2.OperationalError:
                    crashed = True
            self.assertTrue(crashed)
            tx["crash"]()
            # Three batches confirmed (front), then two of the back office committed before the crash.
            self.assertEqual(tx["commits"], 5)
            self.assertEqual(
                tx["progress"], [(2, 4), (2, 2), (2, 0), (2, 4), (2, 2)], "each batch says what its phase has left"
            )
            first, third = orders[:4], orders[4:]
            self.assertTrue(all(o.state == "sale" and len(o.invoice_ids) == 1 for o in first))
            self.assertTrue(
                all(o.state == "sale" and o.q2c_pending and not o.invoice_ids for o in third), "nothing half-done"
            )
            handled = self.env["sale.order"]._q2c_run(batch_size=2)
        self.assertEqual(handled, 2, "only the batch that crashed is taken again")
        for order in orders:
            self.assertEqual(len(order.invoice_ids), 1)
            self.assertEqual(order.invoice_ids.state, "posted")

    @mute_logger("odoo.sql_db")
    def test_savepoints_per_transaction_stay_under_64(self):
        """Every order of a batch of 60 fails alone (the worst case): the runner defers the rest."""
        self.service.property_account_income_id = False
        self.service.categ_id.property_account_income_categ_id = False
        self.company.income_account_id = False
        self.company_data["default_journal_sale"].default_account_id = False
        orders = self.env["sale.order"].concat(*(self.quote([(self.service, 1)]) for _ in range(60)))
        self.accept(orders)
        with self.transactions() as tx:
            self.env["sale.order"]._q2c_run(batch_size=60)
        self.assertGreater(tx["commits"], 1, "the batch was split")
        self.assertLess(max(tx["savepoints"]), 64, tx["savepoints"])
        self.assertTrue(all(o.q2c_state == "exception" for o in orders))

    def test_queries_of_the_hot_steps(self):
        """Pinned: acceptance, then the whole chain, for 1 and for 10 orders of 3 lines.

        The chain of 10 orders costs 2.2 times the chain of one: the steps run set-based (the payments of
        the batch are reconciled in one pass).
        """
        lines = [(self.storable_order, 1), (self.consumable, 2), (self.service, 1)]
        one = self.quote(lines)
        ten = self.env["sale.order"].concat(*(self.quote(lines) for _ in range(10)))
        for order in one | ten:
            self.pay(order)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(42):
            self.accept(one)
        self.accept(ten)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(367):
            self.env["sale.order"]._q2c_run(batch_size=20, ids=one.ids, commit=False)
        self.assertEqual(one.q2c_state, "done")
        self.env.invalidate_all()
        with self.assertQueryCount(824):
            self.env["sale.order"]._q2c_run(batch_size=20, ids=ten.ids, commit=False)
        self.assertTrue(all(order.q2c_state == "done" for order in ten))
