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
        tx = self._transaction(order, "done")
        self.assertEqual(order.q2c_acceptance_channel, "portal_pay")
        self.assertIn(order.state, ("draft", "sent"), "the payment request does not confirm: the runner does")
        self.assertTrue(order.q2c_pending)
        self.assertTrue(tx.payment_id)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertIn(tx.payment_id, invoice.matched_payment_ids | invoice.reconciled_payment_ids)
        self.assertEqual(order.q2c_state, "done")

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
