from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    support_sla_warning_share = fields.Integer(
        string="Warn Before Breach (% of target)",
        config_parameter="support_desk.sla_warning_share",
        default=80,
        help="When this share of an SLA target's working time is used, the assignee is warned.",
    )
    support_sla_warning_minutes = fields.Integer(
        string="Warn Before Breach (minutes left)",
        config_parameter="support_desk.sla_warning_minutes",
        default=0,
        help="Also warn when this many working minutes are left, if that comes earlier; 0: only the share counts.",
    )

    @api.constrains("support_sla_warning_share")
    def _check_support_sla_warning_share(self):
        for settings in self:
            if not 1 <= settings.support_sla_warning_share <= 99:
                raise ValidationError(self.env._("The SLA warning must be between 1% and 99% of the target."))
            if settings.support_sla_warning_minutes < 0:
                raise ValidationError(self.env._("The minutes left before an SLA warning cannot be negative."))
