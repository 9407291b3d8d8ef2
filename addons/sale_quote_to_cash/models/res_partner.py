from odoo import api, fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    _inherit = "res.partner"

    q2c_profile_id = fields.Many2one(
        "sale.q2c.profile",
        string="Quote-to-Cash Profile",
        company_dependent=True,
        help="Overrides the sales team's and the company's profile for this customer's orders. "
        "Only a sales manager changes it.",
    )

    def _q2c_write_refused(self, field, operation):
        """Any employee may edit a customer, but the customer's profile decides which checks
        their orders get: only sales managers change it."""
        return (
            operation == "write"
            and field.name == "q2c_profile_id"
            and not self.env.su
            and not self.env.user.has_group("sales_team.group_sale_manager")
        )

    def _has_field_access(self, field, operation):
        return not self._q2c_write_refused(field, operation) and super()._has_field_access(field, operation)

    @api.model
    def _check_field_access(self, field, operation):
        if self._q2c_write_refused(field, operation):
            raise AccessError(self.env._("Only a sales manager changes the quote-to-cash profile of a customer."))
        return super()._check_field_access(field, operation)
