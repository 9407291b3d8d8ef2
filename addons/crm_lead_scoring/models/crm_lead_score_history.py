from odoo import fields, models

from .crm_lead import GRADES, SCORE_SOURCES


class CrmLeadScoreHistory(models.Model):
    """One change of a lead's score or grade, with why it changed."""

    _name = "crm.lead.score.history"
    _description = "Lead Score History"
    _order = "date desc, id desc"
    _log_access = False

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    # not stored: a foreign key checked on each of the thousands of rows a rescoring inserts, for a
    # value the lead already holds
    company_id = fields.Many2one(related="lead_id.company_id")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    score = fields.Integer(required=True, aggregator="avg")
    grade = fields.Selection(GRADES)
    previous_score = fields.Integer()
    previous_grade = fields.Selection(GRADES)
    source = fields.Selection(SCORE_SOURCES)
    reason = fields.Selection(
        [
            ("create", "Lead created"),
            ("update", "Lead changed"),
            ("rescore", "Periodic rescoring"),
            ("model", "New model"),
            ("manual", "Recomputed on request"),
        ],
        required=True,
    )
