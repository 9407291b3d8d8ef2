from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    customer_health_threshold = fields.Integer(
        string="Churn Risk Below Health",
        config_parameter="crm_customer_360.health_threshold",
        default=50,
        help="A customer whose health score falls below this value is flagged at churn risk "
        "and their account manager gets a retention activity.",
    )

    @api.constrains("customer_health_threshold")
    def _check_customer_health_threshold(self):
        for settings in self:
            if not 0 <= settings.customer_health_threshold <= 100:
                raise ValidationError(self.env._("The churn-risk health threshold must be between 0 and 100."))
