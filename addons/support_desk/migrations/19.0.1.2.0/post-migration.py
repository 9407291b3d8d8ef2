"""1.2: the SLA engine. Tickets already open get their clocks, counted from their creation.

Closed tickets keep no SLA history (there was none to keep); open ones are matched to the
policies and their first-reply and resolution clocks start at their creation date, so that
the time they have already waited counts.
"""

from odoo import SUPERUSER_ID, api, fields


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE support_ticket SET date_cycle_start = create_date WHERE date_cycle_start IS NULL")
    env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
    tickets = env["support.ticket"].with_context(active_test=False).search([("is_closed", "=", False)])
    tickets.filtered(lambda ticket: not ticket.sla_line_ids)._sla_start(fields.Datetime.now())
