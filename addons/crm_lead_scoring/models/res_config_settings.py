from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    scoring_min_closed_leads = fields.Integer(related="company_id.scoring_min_closed_leads", readonly=False)
    scoring_half_life_days = fields.Integer(related="company_id.scoring_half_life_days", readonly=False)
    scoring_model_weight = fields.Integer(related="company_id.scoring_model_weight", readonly=False)
    scoring_rule_base = fields.Integer(related="company_id.scoring_rule_base", readonly=False)
    scoring_grade_a_min = fields.Integer(related="company_id.scoring_grade_a_min", readonly=False)
    scoring_grade_b_min = fields.Integer(related="company_id.scoring_grade_b_min", readonly=False)
    scoring_grade_c_min = fields.Integer(related="company_id.scoring_grade_c_min", readonly=False)
    scoring_drives_probability = fields.Boolean(related="company_id.scoring_drives_probability", readonly=False)
    scoring_field_ids = fields.Many2many(related="company_id.scoring_field_ids", readonly=False)
