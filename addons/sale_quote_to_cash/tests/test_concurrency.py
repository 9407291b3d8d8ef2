"""Two servers on the same order: real cursors, real row locks, committed data (cleaned up after)."""

import functools
import logging

import psycopg2.errors

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestQuoteToCashConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            profile = env["sale.q2c.profile"].create(
                {"name": "Concurrency", "company_id": company.id, "credit_check": "off", "auto_deliver": True}
            )
            partner = env["res.partner"].create({"name": "Concurrent Customer", "q2c_profile_id": profile.id})
            product = env["product.product"].create(
                {"name": "Concurrent service", "type": "service", "list_price": 100.0}
            )
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
                }
            )
            payment = self._payment_for(env, order)
            payment.action_post()
            order._q2c_record_acceptance("phone", "Concurrent Customer")
            self.ids = {
                "order": order.id,
                "payment": payment.id,
                "partner": partner.id,
                "product": product.id,
                "profile": profile.id,
            }
        self.addCleanup(self._cleanup)

    @staticmethod
    def _payment_for(env, order):
        """A draft bank payment of the order's customer for its whole amount, naming it."""
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", order.company_id.id)], limit=1
        )
        return env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": order.partner_id.id,
                "amount": order.amount_total,
                "journal_id": journal.id,
                "memo": order.name,
                "date": fields.Date.today(),
            }
        )

    def _cleanup(self):
        with self.registry.cursor() as cr:
            try:
                env = api.Environment(cr, SUPERUSER_ID, {})
                order = env["sale.order"].browse([self.ids["order"], *self.ids.get("more_orders", [])])
                payment = env["account.payment"].browse([self.ids["payment"], *self.ids.get("more_payments", [])])
                moves = (order.invoice_ids | payment.move_id).ids
                cr.execute(
                    SQL(
                        "DELETE FROM account_partial_reconcile WHERE debit_move_id IN %(l)s OR credit_move_id IN %(l)s",
                        l=SQL("(SELECT id FROM account_move_line WHERE move_id = ANY(%s))", moves),
                    )
                )
                cr.execute("UPDATE account_move_line SET full_reconcile_id = NULL WHERE move_id = ANY(%s)", [moves])
                cr.execute("DELETE FROM account_payment WHERE id = ANY(%s)", [payment.ids])
                cr.execute("DELETE FROM account_move WHERE id = ANY(%s)", [moves])
                cr.execute("DELETE FROM sale_order WHERE id = ANY(%s)", [order.ids])
                cr.execute("DELETE FROM product_product WHERE id = %s", [self.ids["product"]])
                cr.execute("DELETE FROM res_partner WHERE id = %s", [self.ids["partner"]])
                cr.execute("DELETE FROM sale_q2c_profile WHERE id = %s", [self.ids["profile"]])
            except Exception:  # noqa: BLE001 - leftovers in a throw-away test database, not a test failure
                _logger.warning("concurrency test: cleanup incomplete", exc_info=True)
                cr.rollback()

    @mute_logger("odoo.sql_db")
    def test_two_cursors_on_the_same_order(self):
        oid = self.ids["order"]
        cr_a, cr_b = self.registry.cursor(), self.registry.cursor()
        try:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            cr_b.execute("SELECT 1")  # B's snapshot starts now, before A commits

            claimed_a = env_a["sale.order"]._q2c_claim(10, ids=[oid])
            self.assertEqual(claimed_a.ids, [oid])
            self.assertFalse(env_b["sale.order"]._q2c_claim(10, ids=[oid]), "B skips the row A holds")

            claimed_a._q2c_process()
            cr_a.commit()

            # B still sees the order queued in its old snapshot: locking it now is refused, not repeated.
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                env_b["sale.order"]._q2c_run(commit=False, ids=[oid])
            cr_b.rollback()
            self.assertEqual(env_b["sale.order"]._q2c_run(commit=False, ids=[oid]), 0, "nothing left to do")
            cr_b.rollback()

            order = env_b["sale.order"].browse(oid)
            invoices = order.invoice_ids
            self.assertEqual(len(invoices), 1, "one invoice, never two")
            self.assertEqual(invoices.state, "posted")
            self.assertIn(invoices.payment_state, ("paid", "in_payment"))
            payment = env_b["account.payment"].browse(self.ids["payment"])
            self.assertEqual(
                payment.reconciled_invoice_ids | payment.invoice_ids, invoices, "one payment, matched once"
            )
            self.assertEqual(order.q2c_state, "done")
        finally:
            cr_a.close()
            cr_b.close()

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_a_payment_posted_while_the_chain_runs_the_order_is_not_missed(self):
        """The soak's stuck prepaid order: the customer's payment is posted while a run of the
        chain invoices the order. The run cannot see the payment (its snapshot is older than the
        payment's commit), so it leaves the order waiting for payment; the payment's transaction
        began before the run, so it does not see the order waiting either, and the back cron's
        catch-up looks for payments written since the order's last run. Without the payment
        writing the customer's orders, nothing ever woke that order again."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].browse(self.ids["partner"])
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [Command.create({"product_id": self.ids["product"], "product_uom_qty": 2})],
                }
            )
            payment = self._payment_for(env, order)
            order._q2c_record_acceptance("phone", "Concurrent Customer")
            self.ids.update(more_orders=[order.id], more_payments=[payment.id])
        oid, pid = order.id, payment.id

        cr_pay, cr_run = self.registry.cursor(), self.registry.cursor()
        try:
            env_pay = api.Environment(cr_pay, SUPERUSER_ID, {})
            env_run = api.Environment(cr_run, SUPERUSER_ID, {})
            cr_pay.execute("SELECT 1")  # the payment's transaction begins before the run's

            # The run confirms, invoices and sends; the payment is not posted in its snapshot.
            env_run["sale.order"]._q2c_run(commit=False, ids=[oid])
            self.assertEqual(env_run["sale.order"].browse(oid).q2c_state, "paying")
            cr_run.commit()

            # The payment is posted, as an RPC call is: Odoo's retry on a serialization failure.
            retrying(functools.partial(env_pay["account.payment"].browse(pid).action_post), env_pay)
            cr_pay.commit()
        finally:
            cr_pay.close()
            cr_run.close()

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["sale.order"].browse(oid)
            self.assertEqual(env["account.payment"].browse(pid).state, "in_process")
            self.assertTrue(order.q2c_pending, "the posted payment queued the order the run left waiting for it")
            env["sale.order"]._q2c_wake()
            env["sale.order"]._q2c_run(commit=False, ids=[oid], phase="back")
            self.assertEqual(order.q2c_state, "done")
            self.assertIn(order.invoice_ids.payment_state, ("paid", "in_payment"))
