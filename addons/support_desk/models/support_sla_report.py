from odoo import api, fields, models
from odoo.tools import SQL

from .support_sla import METRICS
from .support_ticket import PRIORITIES
from .support_ticket_sla import SLA_STATES

AGE_BUCKETS = [
    ("0_1", "Under a day"),
    ("1_3", "1 to 3 days"),
    ("3_7", "3 to 7 days"),
    ("7_30", "1 to 4 weeks"),
    ("30", "Over 4 weeks"),
]


class SupportSlaReport(models.Model):
    """One row per SLA status line, with its ticket's dimensions, for the support manager's analysis.

    ``achievement`` is 100 for a met target and 0 for a missed one, and empty while the clock
    runs: its average is the achievement rate over the finished targets only.
    """

    _name = "support.sla.report"
    _description = "SLA Analysis"
    _auto = False
    _order = "date_start desc"
    _rec_name = "ticket_id"

    ticket_id = fields.Many2one("support.ticket", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("support.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned To", readonly=True)
    sla_id = fields.Many2one("support.sla", string="SLA Policy", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    ticket_type_id = fields.Many2one("support.ticket.type", string="Type", readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    metric = fields.Selection(METRICS, readonly=True)
    state = fields.Selection(SLA_STATES, readonly=True)
    date_start = fields.Datetime(string="Started", readonly=True)
    deadline = fields.Datetime(readonly=True)
    date_reached = fields.Datetime(string="Reached On", readonly=True)
    target_hours = fields.Float(string="Target (h)", readonly=True, aggregator="avg")
    worked_hours = fields.Float(
        string="Working Hours Used", readonly=True, aggregator="avg", help="Up to the last event on the ticket."
    )
    achievement = fields.Float(string="Achievement (%)", readonly=True, aggregator="avg")
    breach_count = fields.Integer(string="Breaches", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id AS id,
                   line.ticket_id,
                   ticket.company_id,
                   ticket.team_id,
                   ticket.user_id,
                   line.sla_id,
                   ticket.commercial_partner_id,
                   ticket.ticket_type_id,
                   ticket.priority,
                   line.metric,
                   line.state,
                   line.date_start,
                   line.deadline,
                   line.date_reached,
                   line.target_hours,
                   line.worked_seconds / 3600.0 AS worked_hours,
                   CASE line.state WHEN 'achieved' THEN 100.0 WHEN 'failed' THEN 0.0 END AS achievement,
                   CASE WHEN line.state = 'failed' THEN 1 ELSE 0 END AS breach_count
              FROM support_ticket_sla line
              JOIN support_ticket ticket ON ticket.id = line.ticket_id
            """
        )


class SupportBacklogReport(models.Model):
    """Open tickets by age, as of the moment the report is read."""

    _name = "support.backlog.report"
    _description = "Support Backlog by Age"
    _auto = False
    _order = "age_days desc"
    _rec_name = "ticket_id"

    ticket_id = fields.Many2one("support.ticket", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("support.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned To", readonly=True)
    stage_id = fields.Many2one("support.stage", readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    sla_status = fields.Selection(
        selection=lambda self: self.env["support.ticket"]._fields["sla_status"].selection,
        string="SLA",
        readonly=True,
    )
    create_date = fields.Datetime(string="Created On", readonly=True)
    age_days = fields.Float(string="Age (days)", readonly=True, aggregator="avg")
    age_bucket = fields.Selection(AGE_BUCKETS, string="Age", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT ticket.id AS id,
                   ticket.id AS ticket_id,
                   ticket.company_id,
                   ticket.team_id,
                   ticket.user_id,
                   ticket.stage_id,
                   ticket.priority,
                   ticket.sla_status,
                   ticket.create_date,
                   age.days AS age_days,
                   CASE WHEN age.days < 1 THEN '0_1'
                        WHEN age.days < 3 THEN '1_3'
                        WHEN age.days < 7 THEN '3_7'
                        WHEN age.days < 30 THEN '7_30'
                        ELSE '30' END AS age_bucket
              FROM support_ticket ticket,
                   LATERAL (SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC' - ticket.create_date)) / 86400.0
                           AS days) age
             WHERE ticket.is_closed IS NOT TRUE AND ticket.active
            """
        )


class SupportTeam(models.Model):
    _inherit = "support.team"

    sla_achievement = fields.Float(string="SLA Achievement (%)", compute="_compute_sla_statistics")
    first_reply_median = fields.Float(string="First Reply, Median (h)", compute="_compute_sla_statistics")
    first_reply_p90 = fields.Float(string="First Reply, 90th Percentile (h)", compute="_compute_sla_statistics")
    resolution_median = fields.Float(string="Resolution, Median (h)", compute="_compute_sla_statistics")
    resolution_p90 = fields.Float(string="Resolution, 90th Percentile (h)", compute="_compute_sla_statistics")

    @api.depends_context("uid")
    def _compute_sla_statistics(self):
        """Over the targets reached in the last 30 days, in working hours; one query for all teams."""
        stats = {}
        if self.ids:
            # the figures only aggregate lines of the teams the user reads; per-ticket rights are not
            # needed for a median, and the query reads no ticket content
            self.env["support.ticket.sla"].flush_model()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT team_id,
                           AVG(CASE state WHEN 'achieved' THEN 100.0 ELSE 0.0 END),
                           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY worked_seconds)
                               FILTER (WHERE metric = 'first_reply'),
                           PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY worked_seconds)
                               FILTER (WHERE metric = 'first_reply'),
                           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY worked_seconds)
                               FILTER (WHERE metric = 'resolution'),
                           PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY worked_seconds)
                               FILTER (WHERE metric = 'resolution')
                      FROM support_ticket_sla
                     WHERE team_id = ANY(%s)
                       AND date_reached >= %s
                       AND state IN ('achieved', 'failed')
                  GROUP BY team_id
                    """,
                    self.ids,
                    fields.Datetime.subtract(fields.Datetime.now(), days=30),
                )
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for team in self:
            rate, fr_median, fr_p90, res_median, res_p90 = stats.get(team.id, (0.0, 0.0, 0.0, 0.0, 0.0))
            team.sla_achievement = float(rate or 0.0)
            team.first_reply_median = (fr_median or 0.0) / 3600.0
            team.first_reply_p90 = (fr_p90 or 0.0) / 3600.0
            team.resolution_median = (res_median or 0.0) / 3600.0
            team.resolution_p90 = (res_p90 or 0.0) / 3600.0
