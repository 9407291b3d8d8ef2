"""1.2: the SLA engine. Tickets already open get their clocks, counted from their creation.

Closed tickets keep no SLA history (there was none to keep). The targets that open tickets
have already missed are failed without escalating: the first check after the upgrade must
not raise every old ticket's priority, reassign them all and mail everyone at once.
"""

from odoo import SUPERUSER_ID, api, fields


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
    env["support.ticket"]._sla_start_existing(fields.Datetime.now())
