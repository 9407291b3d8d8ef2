from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashFlow(Q2cCommon):
    def test_products_invoiced_on_order_go_to_cash(self):
        order = self.quote([(self.storable_order, 2), (self.consumable, 3), (self.service, 1)])
        payment = self.pay(order, amount=order.amount_total)
        self.accept(order)
        self.assertEqual(order.q2c_state, "queued")
        self.assertTrue(order.q2c_pending)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.picking_ids.state, "done")
        invoice = self.customer_invoices(order)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertIn(invoice, payment.reconciled_invoice_ids)
        self.assertTrue(order.locked)
        self.assertEqual(order.q2c_state, "done")
        self.assertTrue(order.q2c_touchless)
        self.assertFalse(order.q2c_pending)
        self.assertTrue(order.q2c_delivered_on and order.q2c_invoiced_on and order.q2c_paid_on)
        steps = set(order.q2c_log_ids.mapped("step"))
        self.assertTrue({"accept", "confirm", "deliver", "invoice", "pay", "lock"} <= steps, steps)

    def test_the_front_confirms_and_the_back_reserves_the_stock(self):
        """The confirming cron writes no quant: the delivery step reserves and validates."""
        order = self.quote([(self.storable_order, 2), (self.consumable, 1)])
        self.pay(order)
        self.accept(order)
        self.env["sale.order"]._q2c_run(commit=False, phase="front")
        self.assertEqual(order.state, "sale")
        storable = order.picking_ids.move_ids.filtered(lambda m: m.product_id == self.storable_order)
        self.assertEqual(storable.state, "confirmed")
        self.assertFalse(storable.move_line_ids, "nothing reserved at confirmation")
        self.assertEqual(order.q2c_state, "delivering")
        self.assertTrue(order.q2c_pending, "queued for the back cron")
        self.env["sale.order"]._q2c_run(commit=False, phase="back")
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(storable.quantity, 2)
        self.assertEqual(order.q2c_state, "done")

    def test_without_automatic_delivery_the_confirmation_reserves_as_usual(self):
        self.profile.auto_deliver = False
        order = self.quote([(self.storable_order, 2)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.picking_ids.state, "assigned")
        self.assertEqual(order.picking_ids.move_ids.quantity, 2)

    def test_products_invoiced_on_delivery_wait_for_the_delivery(self):
        self.profile.auto_deliver = False
        order = self.quote([(self.storable_delivery, 4)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.q2c_state, "delivering")
        self.assertFalse(order.invoice_ids, "nothing is delivered, nothing is invoiced")
        picking = order.picking_ids
        picking.move_ids.quantity = 4
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertTrue(order.q2c_pending, "a validated delivery wakes the chain")
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.invoice_line_ids.quantity, 4)
        self.assertEqual(order.q2c_state, "paying")

    def test_partial_delivery_invoices_each_delivery_and_keeps_a_backorder(self):
        order = self.quote([(self.storable_delivery, 150)])  # 100 in stock
        self.accept(order)
        self.run_chain()
        done = order.picking_ids.filtered(lambda p: p.state == "done")
        backorder = order.picking_ids - done
        self.assertEqual(done.move_ids.quantity, 100)
        self.assertEqual(backorder.backorder_id, done)
        self.assertNotIn(backorder.state, ("done", "cancel"))
        first = self.customer_invoices(order)
        self.assertEqual(first.invoice_line_ids.quantity, 100)
        self.assertEqual(order.q2c_state, "delivering")
        # The rest arrives: the periodic pass finds the backorder ready and the chain delivers and invoices it.
        self._q2c_stock(self.storable_delivery, 50)
        backorder.action_assign()
        self.assertFalse(order.q2c_pending)
        self.env["sale.order"]._q2c_wake()
        self.assertTrue(order.q2c_pending)
        self.run_chain()
        self.assertEqual(backorder.state, "done")
        invoices = self.customer_invoices(order)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(sorted(invoices.invoice_line_ids.mapped("quantity")), [50, 100])

    def test_delivery_not_reserved_at_confirmation_is_reserved_by_the_chain(self):
        """Stock held by another transaction when the order was confirmed: the delivery step reserves it."""
        self.profile.auto_deliver = False
        order = self.quote([(self.storable_order, 3)])
        self.accept(order)
        self.run_chain()
        order.picking_ids.do_unreserve()
        self.assertEqual(order.picking_ids.state, "confirmed")
        self.profile.auto_deliver = True
        order._q2c_enqueue()
        self.run_chain()
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(order.q2c_state, "paying")

    def test_services_only(self):
        order = self.quote([(self.service, 3)])
        self.accept(order)
        self.run_chain()
        self.assertFalse(order.picking_ids)
        self.assertEqual(self.customer_invoices(order).state, "posted")
        self.assertEqual(order.q2c_state, "paying")

    def test_opportunity_marked_won_with_the_real_amount(self):
        lead = self.env["crm.lead"].create(
            {"name": "Big deal", "type": "opportunity", "partner_id": self.customer.id, "expected_revenue": 99999}
        )
        order = self.quote([(self.service, 2)], opportunity_id=lead.id)
        self.accept(order)
        self.run_chain()
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(lead.expected_revenue, order.amount_untaxed)

    def test_zero_total_order(self):
        order = self.quote([(self.service, 1, {"price_unit": 0.0})])
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.amount_total, 0.0)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(order.q2c_state, "done")
        self.assertTrue(order.locked)

    def test_tax_included_prices_and_rounding(self):
        self.service.taxes_id = self.tax_10_included
        self.consumable.taxes_id = self.tax_15
        order = self.quote(
            [(self.service, 3, {"price_unit": 33.33}), (self.consumable, 7, {"price_unit": 1.11, "discount": 3.0})]
        )
        hand = self.quote(
            [(self.service, 3, {"price_unit": 33.33}), (self.consumable, 7, {"price_unit": 1.11, "discount": 3.0})]
        )
        self.accept(order)
        self.run_chain()
        hand.action_confirm()
        hand.picking_ids.move_ids.picked = True
        hand.picking_ids.button_validate()
        hand_invoice = hand._create_invoices()
        hand_invoice.action_post()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.amount_total, hand_invoice.amount_total)
        self.assertEqual(invoice.amount_tax, hand_invoice.amount_tax)
        self.assertEqual(self.journal_signature(invoice), self.journal_signature(hand_invoice))

    def test_accounting_equals_the_same_steps_by_hand(self):
        """Order, delivery, invoice and payment through the chain: the same journal entries as by hand."""
        self.profile.start_on_confirm = False
        lines = [(self.storable_order, 2), (self.storable_delivery, 3), (self.consumable, 5), (self.service, 1)]
        order, hand = self.quote(lines), self.quote(lines)
        self.pay(order)
        self.accept(order)
        self.run_chain()

        hand.action_confirm()
        for move in hand.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
        hand.picking_ids.move_ids.picked = True
        hand.picking_ids.button_validate()
        hand_invoice = hand._create_invoices()
        hand_invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=hand_invoice.ids
        ).create({})._create_payments()

        invoice = self.customer_invoices(order)
        self.assertEqual(self.journal_signature(invoice), self.journal_signature(hand_invoice))
        self.assertEqual(invoice.payment_state, hand_invoice.payment_state)
        chain_payment = invoice.reconciled_payment_ids | invoice.matched_payment_ids
        hand_payment = hand_invoice.reconciled_payment_ids | hand_invoice.matched_payment_ids
        self.assertEqual((len(chain_payment), len(hand_payment)), (1, 1))
        self.assertEqual(self.journal_signature(chain_payment.move_id), self.journal_signature(hand_payment.move_id))
        self.assertFalse(hand.q2c_state, "an order confirmed by hand stays out when the profile does not follow them")

    def test_multi_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR", "currency_id": eur.id, "company_id": self.company.id}
        )
        order = self.quote([(self.service, 2, {"price_unit": 100.0})], pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, eur)
        self.pay(order, currency=eur)
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.currency_id, eur)
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertAlmostEqual(receivable.amount_currency, order.amount_total)
        self.assertAlmostEqual(receivable.balance, order.amount_total / 2.0)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(order.q2c_state, "done")

    def test_down_payment_then_final_invoice(self):
        order = self.quote([(self.service, 10)])
        order.action_confirm()  # followed by the chain: the profile follows orders confirmed by hand
        self.assertEqual(order.q2c_acceptance_channel, "confirm")
        # A down payment of 30% invoiced and paid before the chain runs.
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "percentage", "amount": 30})
        )
        wizard.create_invoices()
        down = order.invoice_ids
        down.action_post()
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=down.ids).create(
            {}
        )._create_payments()
        self.run_chain()
        final = self.customer_invoices(order) - down
        self.assertEqual(len(final), 1)
        self.assertAlmostEqual(final.amount_total, order.amount_total - down.amount_total)
        self.assertTrue(any(line.is_downpayment for line in final.invoice_line_ids.sale_line_ids))

    def test_partial_prepayment_is_matched(self):
        order = self.quote([(self.service, 10)])
        payment = self.pay(order, amount=round(order.amount_total * 0.4, 2))
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, order.amount_total - payment.amount)
        self.assertEqual(order.q2c_state, "paying")
        # The rest is paid later, named after the invoice: the next run matches it and closes the order.
        self.pay(order, amount=invoice.amount_residual, memo=f"Balance {invoice.name}")
        order._q2c_enqueue()
        self.run_chain()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(order.q2c_state, "done")

    def test_payment_of_another_order_is_not_taken(self):
        order = self.quote([(self.service, 1)])
        other = self.pay(order, memo="Deposit for something else")
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(other.reconciled_invoice_ids)

    def test_credit_note_does_not_make_the_chain_invoice_again(self):
        order = self.quote([(self.service, 2)])
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "wrong price"})
        )
        reversal.refund_moves()
        self.assertEqual(order.invoice_status, "to invoice")
        order._q2c_enqueue()
        self.run_chain()
        self.assertEqual(len(self.customer_invoices(order)), 1, "no second invoice after a credit note")
        self.assertIn("credit note", self.last_log(order).message)

    def test_record_acceptance_wizard_with_signed_paper(self):
        order = self.quote([(self.service, 1)], user_id=self.salesman.id)
        action = order.with_user(self.salesman).action_q2c_accept()
        Wizard = self.env["sale.q2c.accept.wizard"].with_user(self.salesman).with_context(**action["context"])
        with self.assertRaisesRegex(UserError, "Attach the signed paper"):
            Wizard.create({"channel": "paper"}).action_accept()
        self.assertFalse(order.q2c_state, "nothing was recorded")
        wizard = Form(Wizard)
        wizard.channel = "paper"
        wizard.document = "aGVsbG8="
        wizard.save().action_accept()
        self.assertEqual(order.q2c_acceptance_channel, "paper")
        self.assertEqual(order.q2c_recorded_by_id, self.salesman)
        self.assertEqual(order.q2c_acceptance_attachment_id.res_id, order.id)
        self.assertEqual(order.q2c_state, "queued")
        self.assertNotEqual(order.state, "sale", "the request does not confirm: the runner does")

    def test_second_acceptance_changes_nothing(self):
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        logs = len(order.q2c_log_ids)
        self.accept(order)
        self.assertEqual(len(order.q2c_log_ids), logs)
        self.assertNotEqual(order.q2c_state, "queued")

    def test_expired_quote_is_blocked(self):
        order = self.quote([(self.service, 1)], validity_date="2020-01-01")
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.q2c_state, "blocked")
        self.assertIn("expired", order.q2c_blocked_reason)
        self.assertIn("expiration date", order.q2c_blocked_reason)
        order.validity_date = False
        order.action_q2c_retry()
        self.run_chain()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.q2c_touchless)

    def test_manual_confirm_profile_waits_for_a_person(self):
        self.profile.auto_confirm = False
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.q2c_state, "to_confirm")
        order.action_confirm()
        self.assertTrue(order.q2c_pending)
        self.run_chain()
        self.assertEqual(self.customer_invoices(order).state, "posted")

    def test_team_and_customer_profiles_override_the_company(self):
        team_profile = self.profile.copy({"name": "Team", "auto_invoice": False})
        customer_profile = self.profile.copy({"name": "Customer", "auto_post": False})
        team = self.env["crm.team"].create(
            {"name": "Team Q2C", "company_id": self.company.id, "q2c_profile_id": team_profile.id}
        )
        order = self.quote([(self.service, 1)], team_id=team.id)
        self.assertEqual(order._q2c_find_profile(), team_profile)
        self.customer.q2c_profile_id = customer_profile
        self.assertEqual(order._q2c_find_profile(), customer_profile)
        self.accept(order)
        self.run_chain()
        invoice = self.customer_invoices(order)
        self.assertEqual(invoice.state, "draft", "the customer's profile creates but does not post")

    def test_lines_added_by_command(self):
        order = self.quote([(self.service, 1)])
        order.order_line = [Command.create({"product_id": self.consumable.id, "product_uom_qty": 2})]
        self.accept(order)
        self.run_chain()
        self.assertEqual(len(self.customer_invoices(order).invoice_line_ids), 2)
