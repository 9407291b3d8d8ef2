from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        """A quotation paid online is accepted, checked and confirmed at once, as in Odoo.

        Odoo confirms the quotation in the transaction that processes the payment, and every
        flow built on it (the portal's payment page, eCommerce, the automatic invoice) relies
        on it. With a workflow profile the payment is recorded as the customer's acceptance and
        the profile's checks run now: the quotation they let through is confirmed here (with
        Odoo's confirmation email) and queued for the next steps of the chain; the one they hold
        stays a quotation, held with the reason, as the runner would leave it. Only one
        quotation per transaction is confirmed by Odoo, and only once the amount is reached:
        the same holds here. A second notification of the same payment changes nothing.
        """
        automated = self.env["sale.order"]
        for tx in self:
            if len(tx.sale_order_ids) != 1:
                continue
            quotation = tx.sale_order_ids.filtered(lambda so: so.state in ("draft", "sent") and so._q2c_find_profile())
            if quotation and quotation._is_confirmation_amount_reached():
                quotation._q2c_record_acceptance(
                    "portal_pay", tx.partner_id.name or quotation.partner_id.name, enqueue=False
                )
                automated |= quotation
        confirmed = automated.with_context(send_email=True)._q2c_confirm_now()
        others = self.filtered(lambda tx: not (tx.sale_order_ids & automated))
        return confirmed | super(PaymentTransaction, others)._check_amount_and_confirm_order()

    def _post_process(self):
        res = super()._post_process()
        # A payment done after the order was invoiced by the chain: match it now. A quotation its
        # checks hold stays as they left it (checked again, it would only ask a second approval).
        orders = self.filtered(lambda tx: tx.state == "done").sale_order_ids
        orders.filtered(lambda order: order.state == "sale")._q2c_on_documents_moved()
        return res
