from odoo import models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        """A customer payment posted (a bank transfer, the payment wizard on an invoice) wakes the
        chain of the customer's orders waiting for a payment: the runner matches what is meant for
        them, or finds their invoice paid, and locks them."""
        res = super().action_post()
        received = self.filtered(
            lambda pay: (
                pay.payment_type == "inbound" and pay.partner_type == "customer" and pay.state in ("in_process", "paid")
            )
        )
        if received:
            self.env["sale.order"]._q2c_on_payments_posted(received)
        return res
