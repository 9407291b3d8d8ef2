from unittest.mock import patch

from odoo.tests import tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashOnlinePayments(Q2cCommon):
    def _transaction(self, order, state, amount=None, reference=None):
        tx = self._create_transaction(
            flow="redirect",
            sale_order_ids=[order.id],
            state=state,
            amount=order.amount_total if amount is None else amount,
            currency_id=order.currency_id.id,
            partner_id=order.partner_id.id,
            reference=reference or f"{order.name}-tx",
        )
        tx._post_process()
        return tx

    def test_paid_on_the_portal_goes_to_cash(self):
        order = self.quote([(self.service, 2)])
        confirmation_mail = patch.object(
            self.env.registry["sale.order"], "_send_order_confirmation_mail", autospec=True
        )
        with confirmation_mail as mail:
            tx = self._transaction(order, "done")
        self.assertEqual(order.q2c_acceptance_channel, "portal_pay")
        self.assertEqual(order.state, "sale", "Odoo's contract: the payment confirms the order at once")
        mail.assert_called_once()
        self.assertEqual(order.q2c_log_ids.filtered(lambda log: log.step == "confirm").result, "done")
        self.assertTrue(order.q2c_pending, "queued for the next steps: invoice and matching")
        self.assertEqual(order.q2c_state, "invoicing")
        self.assertTrue(tx.payment_id)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertIn(tx.payment_id, invoice.matched_payment_ids | invoice.reconciled_payment_ids)
        self.assertEqual(order.q2c_state, "done")

    def test_paid_on_the_portal_held_by_its_checks(self):
        """The checks run at the payment: what they hold is not confirmed, and says why."""
        self.profile.write({"discount_check": "block", "max_discount": 10.0})
        order = self.quote([(self.service, 2, {"discount": 25.0})])
        self._transaction(order, "done")
        self.assertEqual(order.q2c_acceptance_channel, "portal_pay")
        self.assertIn(order.state, ("draft", "sent"))
        self.assertEqual(order.q2c_state, "blocked")
        self.assertIn("25%", order.q2c_blocked_reason)
        self.assertFalse(order.q2c_pending)
        self.run_chain()
        self.assertIn(order.state, ("draft", "sent"))
        self.assertFalse(order.invoice_ids)

    def test_paid_on_the_portal_waits_for_an_approval(self):
        self.profile.write({"discount_check": "approval", "max_discount": 10.0})
        order = self.quote([(self.service, 2, {"discount": 25.0})])
        self._transaction(order, "done")
        self.assertIn(order.state, ("draft", "sent"))
        self.assertEqual(order.q2c_state, "approval")
        self.assertEqual(order.q2c_approval_state, "requested")
        self.run_chain()
        self.assertEqual(
            order.activity_ids.activity_type_id, self.env.ref("sale_quote_to_cash.mail_activity_q2c_approval")
        )
        self.assertEqual(len(order.activity_ids), 1, "one approval asked, not one per run")
        order.with_user(self.manager).action_q2c_approve()
        self.run_chain()
        self.assertEqual(order.state, "sale")

    def test_paid_on_the_portal_after_an_acceptance_by_phone(self):
        """Accepted by phone, still in the queue when the customer pays: confirmed by the payment."""
        order = self.quote([(self.service, 2)])
        self.accept(order)
        self.assertIn(order.state, ("draft", "sent"))
        self._transaction(order, "done")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.q2c_acceptance_channel, "phone")

    def test_pending_payment_does_not_accept(self):
        order = self.quote([(self.service, 2)])
        self._transaction(order, "pending")
        self.assertFalse(order.q2c_state)
        self.run_chain()
        self.assertIn(order.state, ("draft", "sent"))
        self.assertFalse(order.invoice_ids)

    def test_cancelled_or_failed_payment_does_not_accept(self):
        for state in ("cancel", "error"):
            with self.subTest(state=state):
                order = self.quote([(self.service, 2)])
                self._transaction(order, state, reference=f"{order.name}-{state}")
                self.run_chain()
                self.assertFalse(order.q2c_state)
                self.assertIn(order.state, ("draft", "sent"))
                self.assertFalse(order.invoice_ids)

    def test_same_notification_twice(self):
        order = self.quote([(self.service, 2)])
        tx = self._transaction(order, "done")
        tx._post_process()
        self.run_chain()
        tx._post_process()
        self.run_chain()
        self.assertEqual(len(self.customer_invoices(order)), 1)
        payments = self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)])
        self.assertEqual(len(payments), 1)
        self.assertEqual(len(order.q2c_log_ids.filtered(lambda log: log.step == "accept")), 1)
        self.assertEqual(order.q2c_state, "done")

    def test_partial_online_payment_below_the_prepayment_does_not_accept(self):
        order = self.quote([(self.service, 10)], require_payment=True, prepayment_percent=0.5)
        self._transaction(order, "done", amount=order.amount_total * 0.2)
        self.assertFalse(order.q2c_state, "Odoo's own rule: the prepayment amount is not reached")

    def test_prepayment_then_the_rest(self):
        order = self.quote([(self.service, 10)], require_payment=True, prepayment_percent=0.5)
        tx = self._transaction(order, "done", amount=round(order.amount_total * 0.5, 2))
        self.assertEqual(order.q2c_acceptance_channel, "portal_pay")
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertIn(tx.payment_id, invoice.matched_payment_ids | invoice.reconciled_payment_ids)
        self.assertEqual(order.q2c_state, "paying")

    def test_portal_signature_accepts(self):
        order = self.quote([(self.service, 1)], require_signature=True, require_payment=False)
        order.signed_by = "Quincy Buyer"
        order._validate_order()
        self.assertEqual(order.q2c_acceptance_channel, "portal_sign")
        self.assertEqual(order.q2c_accepted_by, "Quincy Buyer")
        self.assertIn(order.state, ("draft", "sent"))
        self.run_chain()
        self.assertEqual(order.state, "sale")

    def test_without_profile_odoo_confirms_as_usual(self):
        self.profile.active = False
        self.company.q2c_profile_id = False
        order = self.quote([(self.service, 1)])
        self._transaction(order, "done")
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.q2c_state)
