from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        res = super()._action_done()
        if not self.env.context.get("q2c_runner"):
            self.sale_id._q2c_on_documents_moved()
        return res
