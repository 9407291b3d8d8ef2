from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_lead import GRADES

GRADE_RANK = {"A": 4, "B": 3, "C": 2, "D": 1}


class CrmLeadScoringThreshold(models.Model):
    """When a lead reaches a grade or a score, act once per crossing."""

    _name = "crm.lead.scoring.threshold"
    _description = "Lead Score Threshold"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    team_id = fields.Many2one("crm.team", string="Only for Team", check_company=True)
    trigger = fields.Selection(
        [("grade", "Reaches a grade"), ("score", "Reaches a score")], required=True, default="grade"
    )
    grade = fields.Selection(GRADES, default="A", help="Fires when the lead reaches this grade or better.")
    min_score = fields.Integer(string="Score", default=80, help="Fires when the score reaches this value.")
    assign_team_id = fields.Many2one("crm.team", string="Assign to Team", check_company=True)
    assign_user_id = fields.Many2one(
        "res.users", string="Assign to Salesperson", check_company=True, domain="[('share', '=', False)]"
    )
    activity_type_id = fields.Many2one("mail.activity.type", string="Schedule Activity")
    activity_summary = fields.Char(translate=True)
    activity_days = fields.Integer(string="Due in (days)", default=0)
    tag_ids = fields.Many2many("crm.tag", string="Add Tags")
    notify_user_ids = fields.Many2many("res.users", string="Notify", domain="[('share', '=', False)]")

    @api.constrains("trigger", "min_score")
    def _check_min_score(self):
        for threshold in self:
            if threshold.trigger == "score" and not 1 <= threshold.min_score <= 100:
                raise ValidationError(self.env._("A score threshold must be between 1 and 100."))

    def _crossed(self, old_score, old_grade, new_score, new_grade):
        """True when this change of score goes from below the threshold to at or above it."""
        self.ensure_one()
        if self.trigger == "score":
            return (old_score is None or old_score < self.min_score) and new_score >= self.min_score
        target = GRADE_RANK[self.grade]
        return GRADE_RANK.get(old_grade, 0) < target <= GRADE_RANK.get(new_grade, 0)

    def _fire(self, leads):
        """Run the actions on leads that just crossed; each action is written in the chatter."""
        self.ensure_one()
        for lead in leads:
            done = []
            values = {}
            if self.assign_team_id and lead.team_id != self.assign_team_id:
                values["team_id"] = self.assign_team_id.id
                done.append(self.env._("assigned to team %(team)s", team=self.assign_team_id.name))
            if self.assign_user_id and lead.user_id != self.assign_user_id:
                values["user_id"] = self.assign_user_id.id
                done.append(self.env._("assigned to %(user)s", user=self.assign_user_id.name))
            if self.tag_ids - lead.tag_ids:
                values["tag_ids"] = [fields.Command.link(tag.id) for tag in self.tag_ids]
                done.append(self.env._("tagged %(tags)s", tags=", ".join(self.tag_ids.mapped("name"))))
            if values:
                lead.with_context(crm_lead_scoring_skip=True).write(values)
            if self.activity_type_id:
                lead.activity_schedule(
                    activity_type_id=self.activity_type_id.id,
                    summary=self.activity_summary or self.name,
                    user_id=(self.assign_user_id or lead.user_id or self.env.user).id,
                    date_deadline=fields.Date.add(fields.Date.context_today(self), days=self.activity_days),
                )
                done.append(
                    self.env._("activity '%(activity)s' scheduled", activity=self.activity_summary or self.name)
                )
            partners = self.notify_user_ids.partner_id
            body = self.env._(
                "Score threshold '%(threshold)s' reached (score %(score)s, grade %(grade)s): %(actions)s.",
                threshold=self.name,
                score=lead.score,
                grade=lead.score_grade,
                actions=", ".join(done) if done else self.env._("no action needed"),
            )
            lead.message_post(
                body=body,
                partner_ids=partners.ids,
                message_type="comment" if partners else "notification",
                subtype_xmlid="mail.mt_comment" if partners else "mail.mt_note",
            )
