from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashFailures(Q2cCommon):
    def _break_income_account(self):
        """Neither the product, its category, the company nor the sales journal gives an income account."""
        self.service.property_account_income_id = False
        self.service.categ_id.property_account_income_categ_id = False
        self.company.income_account_id = False
        journal = self.company_data["default_journal_sale"]
        saved = journal.default_account_id
        journal.default_account_id = False
        return journal, saved

    @mute_logger("odoo.sql_db")
    def test_missing_income_account_leaves_no_draft_and_retries_after_the_fix(self):
        journal, account = self._break_income_account()
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale", "the steps before the failure stay done")
        self.assertEqual(order.q2c_state, "exception")
        self.assertEqual(order.q2c_exception_step, "invoice")
        self.assertTrue(order.q2c_exception_reason)
        self.assertFalse(order.invoice_ids, "no draft invoice left behind")
        self.assertTrue(order.q2c_next_try, "an automatic retry is planned")
        self.assertEqual(self.last_log(order).result, "failed")
        self.assertIn(order.q2c_exception_reason, order.message_ids[:1].body)
        # Fixed, then retried by the button: one invoice, posted.
        journal.default_account_id = account
        order.action_q2c_retry()
        self.run_chain()
        self.assertEqual(len(order.invoice_ids), 1)
        self.assertEqual(order.invoice_ids.state, "posted")
        self.assertNotEqual(order.q2c_state, "exception")

    @mute_logger("odoo.sql_db")
    def test_automatic_retry_then_wait_for_a_person(self):
        journal, account = self._break_income_account()
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_attempts, 1)
        first_try = order.q2c_next_try
        self.env["sale.order"]._q2c_wake()
        self.assertFalse(order.q2c_pending, "not before its time")
        with freeze_time(first_try + timedelta(seconds=1)):
            self.env["sale.order"]._q2c_wake()
            self.assertTrue(order.q2c_pending)
            self.run_chain()
        self.assertEqual(order.q2c_attempts, 2)
        with freeze_time(order.q2c_next_try):
            self.env["sale.order"]._q2c_wake()
            self.run_chain()
        self.assertEqual(order.q2c_attempts, 3)
        self.assertFalse(order.q2c_next_try, "after the automatic retries it waits for the Retry button")
        self.assertEqual(order.q2c_state, "exception")

    @mute_logger("odoo.sql_db")
    def test_one_failing_order_does_not_hold_the_others(self):
        journal, account = self._break_income_account()
        bad = self.quote([(self.service, 1)])
        good = self.quote([(self.consumable, 1)])
        self.consumable.property_account_income_id = self.company_data["default_account_revenue"]
        self.accept(bad | good)
        self.run_chain()
        self.assertEqual(bad.q2c_state, "exception")
        self.assertEqual(self.customer_invoices(good).state, "posted")

    def test_sending_failure_keeps_the_invoice_posted_and_retries(self):
        self.profile.auto_send = True
        order = self.quote([(self.service, 1)])
        self.accept(order)
        MoveSend = type(self.env["account.move.send"])
        with patch.object(MoveSend, "_generate_and_send_invoices", side_effect=UserError("The PDF could not be made.")):
            self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.state, "posted", "the posted invoice stays")
        self.assertFalse(invoice.is_move_sent)
        self.assertEqual(order.q2c_state, "exception")
        self.assertEqual(order.q2c_exception_step, "send")
        self.assertIn("PDF", order.q2c_exception_reason)
        with freeze_time(order.q2c_next_try):
            self.env["sale.order"]._q2c_wake()
            self.run_chain()
        self.assertTrue(invoice.is_move_sent)
        self.assertEqual(len(self.customer_invoices(order)), 1, "retrying the sending does not invoice again")
        self.assertEqual(order.q2c_state, "paying")

    def test_invoice_sent_by_email(self):
        self.profile.auto_send = True
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertTrue(invoice.is_move_sent)
        self.assertTrue(
            invoice.message_ids.filtered(lambda m: m.message_type == "comment" and self.customer in m.partner_ids)
        )

    def test_invoice_date_inside_the_lock_date(self):
        """Odoo refuses the posting by hand; the chain parks the order with the reason, no draft left."""
        today = fields.Date.context_today(self.env.user)
        self.company.sale_lock_date = today
        self.profile.start_on_confirm = False
        order, hand = self.quote([(self.service, 1)]), self.quote([(self.service, 1)])
        hand.action_confirm()
        hand_invoice = hand._create_invoices()
        with self.assertRaisesRegex(UserError, "Lock Date"):
            hand_invoice.action_post()
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "exception")
        self.assertIn("Lock Date", order.q2c_exception_reason)
        self.assertFalse(order.invoice_ids, "no draft invoice left behind")
        # The accountant moves the lock date back: the retry invoices and posts.
        self.company.sale_lock_date = today - timedelta(days=1)
        order.action_q2c_retry()
        self.run_chain()
        self.assertEqual(self.customer_invoices(order).state, "posted")

    def test_archived_product(self):
        order = self.quote([(self.consumable, 2)])
        self.consumable.action_archive()
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        self.assertEqual(self.customer_invoices(order).state, "posted")

    def test_cancelled_quotation_cannot_be_accepted(self):
        order = self.quote([(self.service, 1)])
        order._action_cancel()
        with self.assertRaisesRegex(UserError, "cancelled"):
            self.accept(order)
        self.assertFalse(order.q2c_state)
