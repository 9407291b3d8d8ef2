from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    # The customer summary and the health cron read a customer's invoices by commercial partner.
    commercial_partner_id = fields.Many2one(index="btree_not_null")
