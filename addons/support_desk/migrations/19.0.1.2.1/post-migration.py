"""1.2.1: a ticket's customer follows it. The customers of the tickets opened before follow them
too, so that the replies posted on those tickets reach them."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    tickets = env["support.ticket"].search([("partner_id", "!=", False), ("active", "in", [True, False])])
    tickets._support_follow_customers()
