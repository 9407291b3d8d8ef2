from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    q2c_profile_id = fields.Many2one(
        "sale.q2c.profile",
        string="Quote-to-Cash Profile",
        company_dependent=True,
        help="Overrides the sales team's and the company's profile for this customer's orders.",
    )
