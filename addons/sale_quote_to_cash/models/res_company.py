from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    q2c_profile_id = fields.Many2one(
        "sale.q2c.profile",
        string="Quote-to-Cash Profile",
        domain="[('company_id', 'in', [id, False])]",
        help="The workflow profile of the company's orders, unless their sales team or customer has one.",
    )
