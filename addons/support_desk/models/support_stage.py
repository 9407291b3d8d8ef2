from odoo import fields, models


class SupportStage(models.Model):
    """A step of a ticket's life; closing stages end the resolution clock, waiting stages pause it."""

    _name = "support.stage"
    _description = "Ticket Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    fold = fields.Boolean(string="Folded in Kanban", help="Folded stages hide their tickets in the kanban view.")
    is_closed = fields.Boolean(
        string="Closing Stage", help="Tickets in this stage are solved or cancelled: resolution targets are met here."
    )
    is_waiting = fields.Boolean(
        string="Waiting on Customer",
        help="While a ticket waits on the customer, its SLA clocks are paused.",
    )
    team_ids = fields.Many2many(
        "support.team", string="Teams", help="Teams that use this stage; a stage without team is used by all."
    )
    description = fields.Text(translate=True)
