from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        """A quotation paid online is accepted; the chain confirms it after its checks.

        Only one quotation per transaction is confirmed by Odoo, and only once the amount is
        reached: the same holds here. A second notification of the same payment finds the
        order already accepted and changes nothing.
        """
        automated = self.env["sale.order"]
        for tx in self:
            if len(tx.sale_order_ids) != 1:
                continue
            quotation = tx.sale_order_ids.filtered(lambda so: so.state in ("draft", "sent") and so._q2c_find_profile())
            if quotation and quotation._is_confirmation_amount_reached():
                quotation._q2c_record_acceptance("portal_pay", tx.partner_id.name or quotation.partner_id.name)
                automated |= quotation
        others = self.filtered(lambda tx: not (tx.sale_order_ids & automated))
        return super(PaymentTransaction, others)._check_amount_and_confirm_order()

    def _post_process(self):
        res = super()._post_process()
        # A payment done after the order was invoiced by the chain: match it now.
        self.filtered(lambda tx: tx.state == "done").sale_order_ids._q2c_on_documents_moved()
        return res
