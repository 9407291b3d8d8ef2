from odoo import models


class SupportTicket(models.Model):
    _name = "support.ticket"
    _inherit = ["support.ticket", "customer.360.mixin"]

    def _c360_partner(self):
        return self.commercial_partner_id
