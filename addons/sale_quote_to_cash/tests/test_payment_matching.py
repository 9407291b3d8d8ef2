from odoo.tests import tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashPaymentMatching(Q2cCommon):
    """Memos written to trick the matching: a payment pays the invoice it names, or nothing."""

    def _paying(self, count=1, **values):
        """Orders invoiced by the chain and waiting for their payment."""
        orders = self.env["sale.order"].concat(*(self.quote([(self.service, 1)], **values) for _ in range(count)))
        self.accept(orders)
        self.run_chain()
        for order in orders:
            self.assertEqual(order.q2c_state, "paying")
        return orders

    def _match(self, orders):
        orders._q2c_enqueue()
        self.run_chain()

    def assertUntouched(self, order, payment):
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(payment.reconciled_invoice_ids)
        self.assertFalse(payment.invoice_ids)

    def assertParked(self, order, *words):
        self.assertEqual(order.q2c_state, "exception")
        self.assertEqual(order.q2c_exception_step, "pay")
        for word in words:
            self.assertIn(word, order.q2c_exception_reason)
        self.assertEqual(self.last_log(order).result, "failed")

    def test_a_customer_reference_is_matched_as_a_whole_word(self):
        order = self._paying(client_order_ref="1234")[0]
        inside = self.pay(order, memo="INV/2026/01234")
        self._match(order)
        self.assertUntouched(order, inside)
        self.assertEqual(order.q2c_state, "paying")
        named = self.pay(order, memo="Our order 1234, thank you")
        self._match(order)
        self.assertEqual(self.customer_invoices(order).payment_state, "paid")
        self.assertIn(self.customer_invoices(order), named.reconciled_invoice_ids)
        self.assertFalse(inside.reconciled_invoice_ids, "the other payment is still left to the accountant")

    def test_an_order_name_inside_a_longer_one(self):
        short = self._paying(name="S10000")[0]
        long_ = self._paying(name="S100000")[0]
        payment = self.pay(long_, memo="S100000")
        self._match(short | long_)
        self.assertEqual(self.customer_invoices(long_).payment_state, "paid")
        self.assertEqual(payment.reconciled_invoice_ids, self.customer_invoices(long_))
        self.assertEqual(self.customer_invoices(short).payment_state, "not_paid")
        self.assertEqual(short.q2c_state, "paying")

    def test_an_invoice_number_with_a_suffix_is_another_reference(self):
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        payment = self.pay(order, memo=f"{invoice.name}-1")
        self._match(order)
        self.assertUntouched(order, payment)

    def test_lower_case_and_spaces_are_still_the_invoice(self):
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        payment = self.pay(order, memo=f"  paid:   {invoice.name.lower()}.  ")
        self._match(order)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(payment.reconciled_invoice_ids, invoice)
        self.assertEqual(order.q2c_state, "done")

    def test_a_payment_pays_the_invoice_it_names_not_another_of_the_order(self):
        self.profile.auto_match = False
        order = self.quote([(self.storable_delivery, 150)])  # 100 in stock: two deliveries, two invoices
        self.accept(order)
        self.run_chain()
        self._q2c_stock(self.storable_delivery, 50)
        self.env["sale.order"]._q2c_wake()
        self.run_chain()
        first, second = self.customer_invoices(order).sorted("id")
        self.assertEqual((first.state, second.state), ("posted", "posted"))
        self.profile.auto_match = True
        for named, other in ((first, second), (second, first)):
            with self.subTest(named=named.name):
                payment = self.pay(order, amount=round(named.amount_residual / 2, 2), memo=f"Invoice {named.name}")
                self._match(order)
                self.assertEqual(payment.reconciled_invoice_ids, named)
                self.assertEqual(named.payment_state, "partial")
                self.assertEqual(other.payment_state, "not_paid" if named == first else "partial")

    def test_a_memo_naming_two_invoices_is_parked(self):
        first, second = self._paying(count=2)
        invoices = self.customer_invoices(first) | self.customer_invoices(second)
        payment = self.pay(
            first, amount=sum(invoices.mapped("amount_residual")), memo=" + ".join(invoices.mapped("name"))
        )
        self._match(first | second)
        for order in (first, second):
            with self.subTest(order=order.name):
                self.assertParked(order, payment.name, *invoices.mapped("name"))
                self.assertUntouched(order, payment)

    def test_a_memo_naming_another_document_of_the_customer_is_parked(self):
        order = self._paying()[0]
        other = self.quote([(self.service, 1)])  # a quotation, outside the run
        payment = self.pay(order, memo=f"{order.name} {other.name}")
        self._match(order)
        self.assertParked(order, other.name)
        self.assertUntouched(order, payment)

    def test_a_partial_payment_of_the_named_invoice_is_matched_partially(self):
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        self.pay(order, amount=round(invoice.amount_residual / 3, 2), memo=invoice.name)
        self._match(order)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(order.q2c_state, "paying")

    def test_more_than_the_invoice_is_parked(self):
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        payment = self.pay(order, amount=invoice.amount_residual + 0.01, memo=invoice.name)
        self._match(order)
        self.assertParked(order, payment.name, "more than")
        self.assertUntouched(order, payment)

    def test_two_payments_for_one_invoice_are_parked(self):
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        self.pay(order, memo=invoice.name)
        again = self.pay(order, memo=order.name)
        self._match(order)
        self.assertParked(order, "more than")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(again.reconciled_invoice_ids)

    def test_a_payment_in_another_currency_is_parked(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        order = self._paying()[0]
        invoice = self.customer_invoices(order)
        payment = self.pay(order, amount=invoice.amount_residual * 2, memo=invoice.name, currency=eur)
        self._match(order)
        self.assertParked(order, payment.name, "EUR")
        self.assertUntouched(order, payment)

    def test_a_parked_order_goes_on_once_the_accountant_sorted_it_out(self):
        first, second = self._paying(count=2)
        invoices = self.customer_invoices(first) | self.customer_invoices(second)
        payment = self.pay(
            first, amount=sum(invoices.mapped("amount_residual")), memo=" ".join(invoices.mapped("name"))
        )
        self._match(first | second)
        self.assertParked(first)
        # The accountant splits the payment by hand: the retry finds nothing left to doubt.
        payment.action_draft()
        payment.action_cancel()
        for order in (first, second):
            self.pay(order, memo=self.customer_invoices(order).name)
        (first | second).action_q2c_retry()
        self.run_chain()
        self.assertEqual((first.q2c_state, second.q2c_state), ("done", "done"))
