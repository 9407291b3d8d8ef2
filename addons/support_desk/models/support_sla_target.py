from odoo import fields, models

from .support_sla import METRICS
from .support_ticket import PRIORITIES


class SupportSlaTarget(models.Model):
    """One target of a policy: for a metric and a priority, the working hours allowed."""

    _name = "support.sla.target"
    _description = "SLA Target"
    _order = "sla_id, metric, priority desc"

    sla_id = fields.Many2one("support.sla", string="SLA Policy", required=True, ondelete="cascade", index=True)
    metric = fields.Selection(METRICS, required=True)
    priority = fields.Selection(PRIORITIES, required=True, default="0")
    hours = fields.Float(
        string="Working Hours", required=True, help="Time allowed, in the team's working hours (or plain hours 24/7)."
    )

    _metric_priority_uniq = models.Constraint(
        "UNIQUE(sla_id, metric, priority)", "A policy has one target per metric and priority."
    )
    _hours_positive = models.Constraint("CHECK(hours > 0)", "A target needs a positive number of hours.")
