from odoo import fields, models
from odoo.tools import SQL

WON_STATUSES = [("pending", "Open"), ("won", "Won"), ("lost", "Lost")]


class CrmC360PipelineReport(models.Model):
    """One row per lead or opportunity: where it stands, what it is worth, how long it took.

    What the sales managers' dashboard reads: the pipeline by stage and salesperson, the
    conversion from lead to opportunity to won, the sales cycle, wins and losses by lost
    reason, and the forecast (weighted open revenue by expected closing month) against the
    actual (revenue won by closing month) on one date axis.
    """

    _name = "crm.c360.pipeline.report"
    _description = "Pipeline Analysis"
    _auto = False
    _order = "date desc"
    # The ORM flushes these before it reads the view.
    _depends = {
        "crm.lead": [
            "company_id",
            "team_id",
            "user_id",
            "partner_id",
            "stage_id",
            "lost_reason_id",
            "source_id",
            "type",
            "won_status",
            "create_date",
            "date_closed",
            "date_deadline",
            "expected_revenue",
            "prorated_revenue",
            "score",
            "active",
        ],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    lead_type = fields.Selection([("lead", "Lead"), ("opportunity", "Opportunity")], string="Type", readonly=True)
    won_status = fields.Selection(WON_STATUSES, string="Outcome", readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    date = fields.Date(
        readonly=True,
        help="The closing date of a closed opportunity, the expected closing date of an open one "
        "(its creation date when none is expected): the axis of forecast against actual.",
    )
    nbr = fields.Integer(string="Count", readonly=True, aggregator="sum")
    expected_revenue = fields.Float(readonly=True, aggregator="sum")
    forecast = fields.Float(readonly=True, aggregator="sum", help="Weighted revenue of the open opportunities.")
    actual = fields.Float(string="Won Revenue", readonly=True, aggregator="sum")
    conversion_rate = fields.Float(
        string="Converted to Opportunity (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads that became opportunities (a lead created as an opportunity counts).",
    )
    win_rate = fields.Float(
        string="Win Rate (%)", readonly=True, aggregator="avg", help="Share of the closed opportunities that were won."
    )
    cycle_days = fields.Float(
        string="Sales Cycle (days)", readonly=True, aggregator="avg", help="Creation to closing, for closed ones."
    )
    score = fields.Float(string="Lead Score", readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT l.id AS id,
                   l.id AS lead_id,
                   l.company_id,
                   l.team_id,
                   l.user_id,
                   l.partner_id,
                   l.stage_id,
                   l.lost_reason_id,
                   l.source_id,
                   l.type AS lead_type,
                   l.won_status,
                   l.create_date,
                   CASE WHEN l.won_status <> 'pending' AND l.date_closed IS NOT NULL THEN l.date_closed::date
                        ELSE COALESCE(l.date_deadline, l.create_date::date) END AS date,
                   1 AS nbr,
                   l.expected_revenue,
                   CASE WHEN l.won_status = 'pending' AND l.type = 'opportunity'
                        THEN l.prorated_revenue ELSE 0 END AS forecast,
                   CASE WHEN l.won_status = 'won' THEN l.expected_revenue ELSE 0 END AS actual,
                   CASE WHEN l.type = 'opportunity' THEN 100.0 ELSE 0.0 END AS conversion_rate,
                   CASE WHEN l.won_status = 'won' THEN 100.0
                        WHEN l.won_status = 'lost' THEN 0.0 END AS win_rate,
                   CASE WHEN l.won_status <> 'pending' AND l.date_closed IS NOT NULL
                        THEN EXTRACT(EPOCH FROM (l.date_closed - l.create_date)) / 86400.0 END AS cycle_days,
                   l.score AS score
              FROM crm_lead l
             WHERE l.active OR l.won_status = 'lost'
            """
        )
