from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _should_assign_at_confirm(self):
        # The runner confirms without reserving the stock it will deliver: the back cron
        # reserves and validates in one transaction, so that the two crons never write the
        # same quants at once. What bypasses reservation (consumables) is assigned as usual.
        if self.env.context.get("q2c_defer_reservation"):
            return self._should_bypass_reservation()
        return super()._should_assign_at_confirm()
