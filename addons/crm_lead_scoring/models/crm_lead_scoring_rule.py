from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval

ENGAGEMENT_EVENTS = [
    ("email_in", "Email received from the customer"),
    ("email_out", "Email sent to the customer"),
    ("activity_done", "Activity done"),
]


class CrmLeadScoringRule(models.Model):
    """A consultant's rule: points for a lead that fits a profile or engages."""

    _name = "crm.lead.scoring.rule"
    _description = "Lead Scoring Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(
        string="Explanation",
        required=True,
        translate=True,
        help="What a salesperson reads in the score's explanation, e.g. 'Asked for a demo'.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        index=True,
        help="Only leads of this team; empty means every team.",
    )
    kind = fields.Selection(
        [("fit", "Fit: the lead matches a profile"), ("engagement", "Engagement: the lead interacts")],
        required=True,
        default="fit",
    )
    domain = fields.Char(
        string="Leads Matching",
        default="[]",
        help="Fit rules give their points to the leads matching this filter.",
    )
    event = fields.Selection(ENGAGEMENT_EVENTS, string="Engagement Event")
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        help="For 'Activity done': only activities of this type; empty means any.",
    )
    points = fields.Float(required=True, help="Points given (or taken, when negative) per match or per event.")
    group_id = fields.Many2one("crm.lead.scoring.group", check_company=True, index=True)

    # the fields of the fit rules queue a lead's rescoring when they change: cached for every write
    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        result = super().write(vals)
        if {"kind", "domain", "active", "company_id"}.intersection(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.constrains("kind", "domain", "event")
    def _check_rule_definition(self):
        for rule in self:
            if rule.kind == "engagement" and not rule.event:
                raise ValidationError(self.env._("An engagement rule needs an engagement event."))
            if rule.kind == "fit":
                try:
                    domain = Domain(safe_eval(rule.domain or "[]"))
                    self.env["crm.lead"].with_context(active_test=False).search_count(domain, limit=1)
                except Exception as error:
                    raise ValidationError(
                        self.env._("The filter of rule '%(rule)s' is not valid: %(error)s", rule=rule.name, error=error)
                    ) from error

    def _lead_domain(self):
        self.ensure_one()
        return Domain(safe_eval(self.domain or "[]"))
