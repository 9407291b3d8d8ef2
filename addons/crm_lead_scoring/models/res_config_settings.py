from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    scoring_min_closed_leads = fields.Integer(
        string="Closed Leads Before Learning",
        config_parameter="crm_lead_scoring.min_closed_leads",
        default=100,
        help="Below this number of won and lost leads in a scope (company or sales team), "
        "scores come from the rules alone; above it, the learned model is blended in.",
    )
    scoring_engagement_half_life = fields.Integer(
        string="Engagement Half-Life (days)",
        config_parameter="crm_lead_scoring.engagement_half_life",
        default=30,
        help="Engagement points lose half their value after this many days.",
    )
