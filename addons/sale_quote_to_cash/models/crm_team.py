from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    q2c_profile_id = fields.Many2one(
        "sale.q2c.profile",
        string="Quote-to-Cash Profile",
        check_company=True,
        help="Overrides the company's profile for the team's orders (a customer's own profile still wins).",
    )
