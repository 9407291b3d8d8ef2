from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    scoring_min_closed_leads = fields.Integer(
        string="Closed Leads Before Learning",
        default=100,
        help="Below this number of won and lost leads in a scope (company or sales team), "
        "scores come from the rules alone; above it, the learned model is blended in.",
    )
    scoring_half_life_days = fields.Integer(
        string="Engagement Half-Life (days)",
        default=30,
        help="Engagement points lose half their value after this many days.",
    )
    scoring_model_weight = fields.Integer(
        string="Model Share (%)",
        default=70,
        help="Share of the learned model in a blended score; the rules give the rest.",
    )
    scoring_rule_base = fields.Integer(
        string="Rule Base Points",
        default=0,
        help="Points every lead starts with before the rules add or take points.",
    )
    scoring_drives_probability = fields.Boolean(
        string="Score Drives Probability",
        default=False,
        help="The lead's automated probability follows its score, so that Odoo's lead assignment "
        "(highest probability first) and the forecast use it. A probability set by hand is kept. "
        "Off: Odoo computes the probability as without this module, the score is shown beside it.",
    )
    scoring_grade_a_min = fields.Integer(string="Grade A From", default=70)
    scoring_grade_b_min = fields.Integer(string="Grade B From", default=45)
    scoring_grade_c_min = fields.Integer(string="Grade C From", default=20)
    scoring_field_ids = fields.Many2many(
        "ir.model.fields",
        "res_company_scoring_field_rel",
        "company_id",
        "field_id",
        string="Lead Fields Learned From",
        domain="[('model', '=', 'crm.lead'), ('store', '=', True), "
        "('ttype', 'in', ('many2one', 'selection', 'integer', 'float', 'monetary', 'boolean', 'many2many'))]",
        help="Fields of the lead the model learns from, on top of engagement and what other addons add. "
        "Empty means the default set (source, medium, campaign, country, tags, expected revenue, priority).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # the lead fields that queue a rescoring and the companies driving the probability are cached
        self.env.registry.clear_cache()
        return companies

    def write(self, vals):
        result = super().write(vals)
        if {"scoring_drives_probability", "scoring_field_ids"}.intersection(vals):
            self.env.registry.clear_cache()
        return result

    @api.constrains(
        "scoring_min_closed_leads",
        "scoring_half_life_days",
        "scoring_model_weight",
        "scoring_grade_a_min",
        "scoring_grade_b_min",
        "scoring_grade_c_min",
    )
    def _check_scoring_settings(self):
        for company in self:
            if company.scoring_min_closed_leads < 20:
                raise ValidationError(self.env._("A model needs at least 20 closed leads to learn from."))
            if company.scoring_half_life_days < 1:
                raise ValidationError(self.env._("The engagement half-life must be at least one day."))
            if not 0 <= company.scoring_model_weight <= 100:
                raise ValidationError(self.env._("The model share must be between 0% and 100%."))
            if not (100 >= company.scoring_grade_a_min > company.scoring_grade_b_min > company.scoring_grade_c_min > 0):
                raise ValidationError(
                    self.env._("Grade thresholds must decrease from A to C and stay between 1 and 100.")
                )
