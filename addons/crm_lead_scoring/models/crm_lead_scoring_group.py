from odoo import fields, models


class CrmLeadScoringGroup(models.Model):
    _name = "crm.lead.scoring.group"
    _description = "Lead Scoring Rule Group"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    cap = fields.Float(
        string="Cap (points)",
        help="Largest total the rules of this group may give or take; 0 means no cap.",
    )
    rule_ids = fields.One2many("crm.lead.scoring.rule", "group_id", string="Rules")

    _cap_positive = models.Constraint("CHECK(cap >= 0)", "A group's cap cannot be negative.")
