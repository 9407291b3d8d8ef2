import time
from unittest.mock import patch

import psycopg2.errors

from odoo import api
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.suite_batch_job import batch
from odoo.addons.suite_batch_job.tests.common import call_cron, call_cron_to_end

from ..models import sale_order as sale_order_module
from .common import Q2cCommon

FRONT = "sale_quote_to_cash.ir_cron_q2c_confirm"
BACK = "sale_quote_to_cash.ir_cron_q2c_run"


@tagged("post_install", "-at_install")
class TestQuoteToCashCrons(Q2cCommon):
    """Both crons called as ir.cron calls them (their user, a spent budget: one batch a call)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env, "q2c_accountant", groups="account.group_account_invoice", company_id=cls.company.id
        )

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].set_param("sale_quote_to_cash.batch_size", 2)
        batch._LAST_CALL.clear()
        SaleOrder = self.env["sale.order"]
        SaleOrder._q2c_wake()
        self.assertEqual(SaleOrder._q2c_count_due(), 0, "nothing else queued in the database")

    def accepted(self, count, lines=None):
        """Quotations of the salesperson, accepted by them on the phone (the wizard)."""
        orders = self.env["sale.order"].concat(
            *(self.quote(lines or [(self.service, 1)], user_id=self.salesman.id) for _ in range(count))
        )
        Wizard = self.env["sale.q2c.accept.wizard"].with_user(self.salesman)
        for order in orders:
            Wizard.create({"order_id": order.id, "accepted_by": "Quincy Buyer", "channel": "phone"}).action_accept()
        return orders

    def call(self, cron, end_time=None):
        result = call_cron(self, cron, end_time)
        self.env.invalidate_all()
        return result

    def steps(self, orders, step):
        """How many times each order went through ``step`` (its history)."""
        logs = self.env["sale.q2c.log"].search([("order_id", "in", orders.ids), ("step", "=", step)])
        return [len(logs.filtered(lambda log, o=order: log.order_id == o)) for order in orders]

    def notes(self, orders, text):
        """How many chatter lines of each order say ``text``."""
        messages = self.env["mail.message"].search(
            [("model", "=", "sale.order"), ("res_id", "in", orders.ids), ("body", "ilike", text)]
        )
        return [len(messages.filtered(lambda m, o=order: m.res_id == o.id)) for order in orders]

    def test_the_front_cron_resumes_where_it_stopped_and_confirms_each_order_once(self):
        orders = self.accepted(5)
        self.assertEqual(self.call(FRONT), (2, 3), "one batch of two, three quotations left")
        self.assertEqual([o.state == "sale" for o in orders], [True, True, False, False, False])
        self.assertTrue(all(o.q2c_pending for o in orders), "the confirmed ones queued for the back office")
        self.assertEqual(self.call(FRONT), (2, 1), "the second call resumes with the next two")
        self.assertEqual([o.state == "sale" for o in orders], [True] * 4 + [False])
        self.assertEqual(self.call(FRONT), (1, 0), "the last one, and nothing remains")
        self.assertEqual(self.call(FRONT), (0, 0))
        self.assertTrue(all(o.state == "sale" and o.q2c_state == "invoicing" and o.q2c_pending for o in orders))
        self.assertEqual(self.steps(orders, "confirm"), [1] * 5, "each order confirmed once")
        self.assertEqual(self.notes(orders, "Order confirmed."), [1] * 5, "one chatter line each")
        self.assertFalse(orders.invoice_ids, "the front cron leaves the back office to the back cron")

    def test_a_run_whose_budget_is_spent_hands_the_rest_to_a_new_run(self):
        """A batch takes seconds: the calls after the one that spent the budget yield at once
        (nothing done, what is left), so that Odoo ends the run and starts a new one."""
        orders = self.accepted(5)
        end = time.monotonic() - 1
        self.assertEqual(self.call(FRONT, end), (2, 3))
        self.assertEqual(self.call(FRONT, end), (0, 3), "the same run: it yields")
        self.assertEqual([o.state == "sale" for o in orders], [True, True, False, False, False])
        self.assertEqual(self.call(FRONT), (2, 1), "a new run takes the next batch")

    def test_the_back_cron_resumes_where_it_stopped_and_invoices_each_order_once(self):
        orders = self.accepted(5)
        for order in orders:
            self.pay(order)
        self.assertEqual(call_cron_to_end(self, FRONT), [(2, 3), (2, 1), (1, 0)])
        self.env.invalidate_all()
        self.assertEqual(self.call(BACK), (2, 3))
        self.assertEqual([len(o.invoice_ids) for o in orders], [1, 1, 0, 0, 0])
        self.assertEqual([o.q2c_state for o in orders[:2]], ["done", "done"])
        self.assertEqual(self.call(BACK), (2, 1), "the second call resumes with the next two")
        self.assertEqual([len(o.invoice_ids) for o in orders], [1, 1, 1, 1, 0])
        self.assertEqual(self.call(BACK), (1, 0))
        self.assertEqual(self.call(BACK), (0, 0), "nothing left: the job says so")
        for order in orders:
            with self.subTest(order=order.name):
                invoice = self.customer_invoices(order)
                self.assertEqual(len(order.invoice_ids), 1, "one invoice per order")
                self.assertEqual(invoice.state, "posted")
                self.assertIn(invoice.payment_state, ("paid", "in_payment"))
                self.assertTrue(order.locked)
                self.assertEqual(order.q2c_state, "done")
                self.assertFalse(order.q2c_pending)
        self.assertEqual(self.steps(orders, "invoice"), [1] * 5)
        self.assertEqual(self.steps(orders, "pay"), [1] * 5)
        self.assertEqual(self.steps(orders, "lock"), [1] * 5)
        self.assertEqual(self.notes(orders, "order locked"), [1] * 5)

    def test_orders_a_batch_defers_are_taken_by_the_next_call_never_twice(self):
        """Out of savepoints before the lock step: the orders stay queued, the next transaction locks them."""
        self.env["ir.config_parameter"].set_param("sale_quote_to_cash.batch_size", 3)
        orders = self.accepted(3)
        for order in orders:
            self.pay(order)
        call_cron_to_end(self, FRONT)
        self.env.invalidate_all()
        # invoice and pay (one savepoint each) fit in 3, the lock step does not
        with patch.object(sale_order_module, "MAX_SAVEPOINTS", 3):
            self.assertEqual(self.call(BACK), (3, 3), "claimed and deferred: all three still queued")
            self.assertTrue(all(o.q2c_pending and not o.locked and len(o.invoice_ids) == 1 for o in orders))
            self.assertEqual(self.call(BACK), (3, 0), "the next call takes them in a new transaction")
        self.assertTrue(all(o.locked and o.q2c_state == "done" for o in orders))
        self.assertEqual(self.steps(orders, "invoice"), [1] * 3)
        self.assertEqual(self.steps(orders, "lock"), [1] * 3)

        # with the budget left, one call takes them again in a new round of batches
        more = self.accepted(3)
        for order in more:
            self.pay(order)
        call_cron_to_end(self, FRONT)
        self.env.invalidate_all()
        with patch.object(sale_order_module, "MAX_SAVEPOINTS", 3):
            _done, remaining = self.call(BACK, end_time=time.monotonic() + 600)
        self.assertEqual(remaining, 0)
        self.assertTrue(all(o.locked and o.q2c_state == "done" and not o.q2c_pending for o in more))
        self.assertEqual(self.steps(more, "lock"), [1] * 3)

    @mute_logger("odoo.addons.suite_batch_job.batch")
    def test_a_write_conflict_is_taken_again_then_gives_way_with_what_is_left(self):
        orders = self.accepted(3)
        call_cron_to_end(self, FRONT)
        self.env.invalidate_all()
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._q2c_step_invoice
        conflicts = {"left": batch.MAX_CONFLICTS + 1}

        def conflicting(model, ids, cache):
            result = original(model, ids, cache)
            if conflicts["left"]:
                conflicts["left"] -= 1
                raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
            return result

        with patch.object(SaleOrder, "_q2c_step_invoice", conflicting), patch.object(time, "sleep"):
            # another server keeps writing the same rows: the call gives way and says what is left,
            # so that Odoo calls the job again (a new run at once), no delayed trigger needed
            self.assertEqual(self.call(BACK, end_time=time.monotonic() + 600), (0, 3))
            self.assertFalse(orders.invoice_ids, "every attempt rolled back")
            self.assertTrue(all(o.q2c_pending for o in orders))
            conflicts["left"] = 2
            self.assertEqual(self.call(BACK, end_time=time.monotonic() + 600), (3, 0))
        self.assertEqual([len(o.invoice_ids) for o in orders], [1, 1, 1], "the batch taken again, invoiced once")
        self.assertEqual(self.steps(orders, "invoice"), [1] * 3)

    # ------------------------------------------------------------------
    # Payments that come after the invoice
    # ------------------------------------------------------------------

    def paying(self, count=1):
        orders = self.accepted(count)
        self.run_chain()
        self.assertEqual(orders.mapped("q2c_state"), ["paying"] * count)
        self.assertFalse(any(orders.mapped("q2c_pending")))
        return orders

    def transfer(self, order, memo=None):
        """The customer's bank transfer naming the order, posted by the accountant in a
        transaction of their own, outside the runner."""
        self.env.flush_all()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr:
            env = api.Environment(cr, self.accountant.id, {})
            payment = env["account.payment"].create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": order.partner_id.commercial_partner_id.id,
                    "amount": order.amount_total,
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "memo": memo or order.name,
                }
            )
            payment.action_post()
            payment_id = payment.id
        self.env.invalidate_all()
        return self.env["account.payment"].browse(payment_id)

    def forget_the_hook(self, orders):
        """As if the payment came another way than a hook reports (an import, a script)."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE sale_order SET q2c_pending = FALSE WHERE id = ANY(%s)", [orders.ids])
        self.env.invalidate_all()

    def assertCashed(self, order, payment=None):
        invoice = self.customer_invoices(order)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        if payment:
            self.assertEqual(payment.reconciled_invoice_ids, invoice)
        self.assertEqual(order.q2c_state, "done")
        self.assertTrue(order.locked)
        self.assertTrue(order.q2c_paid_on)
        self.assertEqual(self.steps(order, "lock"), [1])

    def test_a_transfer_posted_after_the_invoice_is_matched_and_the_order_locked(self):
        by_hook, by_wake, other = self.paying(3)
        payment = self.transfer(by_hook)
        self.assertTrue(by_hook.q2c_pending, "the posted payment queues the customer's orders waiting for one")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(BACK).id)]))
        self.assertEqual(call_cron_to_end(self, BACK)[-1][1], 0)
        self.env.invalidate_all()
        self.assertCashed(by_hook, payment)
        self.assertEqual(self.steps(by_hook, "pay"), [1])

        late = self.transfer(by_wake)
        self.forget_the_hook(by_wake | other)
        self.assertEqual(self.call(BACK), (2, 0), "the catch-up finds both orders of the customer")
        self.assertCashed(by_wake, late)
        self.assertEqual(other.q2c_state, "paying", "the payment was not meant for it")
        self.assertEqual(self.call(BACK), (0, 0), "a payment looked at is not looked at again")
        self.assertFalse(other.q2c_pending)

    def test_an_invoice_paid_outside_the_chain_is_locked_by_the_back_cron(self):
        by_hook, by_wake = self.paying(2)
        for order in (by_hook, by_wake):
            invoice = self.customer_invoices(order)
            context = {"active_model": "account.move", "active_ids": invoice.ids}
            self.env["account.payment.register"].with_user(self.accountant).with_context(**context).create(
                {}
            ).action_create_payments()
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertTrue(order.q2c_pending, "the paid invoice queues its order")
        self.forget_the_hook(by_wake)
        self.assertEqual(self.call(BACK), (2, 0))
        self.assertCashed(by_hook)
        self.assertCashed(by_wake)
        self.assertEqual(self.steps(by_hook | by_wake, "pay"), [0, 0], "paid by the accountant: nothing to match")
