from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    q2c_batch_size = fields.Integer(
        string="Orders per Batch",
        config_parameter="sale_quote_to_cash.batch_size",
        default=20,
        help="How many orders one run of a quote-to-cash step takes and commits at once.",
    )
    q2c_profile_id = fields.Many2one(
        related="company_id.q2c_profile_id",
        readonly=False,
        string="Default Workflow Profile",
    )

    @api.constrains("q2c_batch_size")
    def _check_q2c_batch_size(self):
        for settings in self:
            if not 1 <= settings.q2c_batch_size <= 500:
                raise ValidationError(self.env._("The quote-to-cash batch size must be between 1 and 500."))
