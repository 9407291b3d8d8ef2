from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        res = super()._invoice_paid_hook()
        if not self.env.context.get("q2c_runner"):
            self.invoice_line_ids.sale_line_ids.order_id._q2c_on_documents_moved()
        return res
