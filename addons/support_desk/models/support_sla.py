from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval

METRICS = [
    ("first_reply", "First Reply"),
    ("next_reply", "Next Reply"),
    ("resolution", "Resolution"),
]


class SupportSla(models.Model):
    """A service-level policy: which tickets it covers and, per priority, its targets.

    Policies are tried in sequence order and the first that matches a ticket applies to it:
    a consultant puts the specific ones (a key account, a ticket type) before the general ones.
    """

    _name = "support.sla"
    _description = "SLA Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="Policies are tried in this order; the first that matches applies.")
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    team_ids = fields.Many2many("support.team", string="Teams", check_company=True, help="Empty: every team.")
    ticket_type_ids = fields.Many2many("support.ticket.type", string="Ticket Types", help="Empty: every type.")
    tag_ids = fields.Many2many("support.tag", string="Tags", help="The ticket carries one of these tags. Empty: any.")
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="The ticket's customer company is one of these. Empty: any."
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        string="Customer Tiers",
        help="The customer company carries one of these contact tags (e.g. Gold). Empty: any.",
    )
    ticket_domain = fields.Char(string="Other Conditions", help="An extra filter on the tickets it covers.")
    target_ids = fields.One2many("support.sla.target", "sla_id", string="Targets", copy=True)
    escalate_raise_priority = fields.Boolean(
        string="Raise Priority", help="After a breach, the ticket's priority goes one step up."
    )
    escalate_to_leader = fields.Boolean(
        string="Reassign to Team Leader", help="After a breach, the ticket goes to its team's leader."
    )
    escalate_notify_user_ids = fields.Many2many(
        "res.users",
        "support_sla_notify_user_rel",
        "sla_id",
        "user_id",
        string="Notify",
        domain="[('share', '=', False)]",
        help="After a breach, these users are told in the ticket's chatter.",
    )

    @api.constrains("ticket_domain")
    def _check_ticket_domain(self):
        for sla in self.filtered("ticket_domain"):
            try:
                self.env["support.ticket"].search_count(sla._ticket_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The conditions of policy %(policy)s are not a valid filter: %(error)s",
                        policy=sla.name,
                        error=error,
                    )
                ) from error

    def _ticket_domain(self):
        self.ensure_one()
        return Domain(safe_eval(self.ticket_domain or "[]", {"uid": self.env.uid}))

    def _covers(self, ticket):
        """Whether this policy's criteria (not its extra filter) hold for ``ticket``."""
        self.ensure_one()
        if self.company_id != ticket.company_id:
            return False
        if self.team_ids and ticket.team_id not in self.team_ids:
            return False
        if self.ticket_type_ids and ticket.ticket_type_id not in self.ticket_type_ids:
            return False
        if self.tag_ids and not (ticket.tag_ids & self.tag_ids):
            return False
        customer = ticket.commercial_partner_id
        if self.partner_ids and customer not in self.partner_ids:
            return False
        return not (self.partner_category_ids and not (customer.category_id & self.partner_category_ids))

    @api.model
    def _match(self, tickets):
        """``{ticket: policy}`` with the first active policy that covers each ticket (tickets without none left out)."""
        # sudo: which policy applies is configuration every agent's ticket follows
        policies = self.sudo().search([("company_id", "in", tickets.company_id.ids)])
        by_filter = {}
        for policy in policies.filtered("ticket_domain"):
            by_filter[policy] = set(tickets.sudo().filtered_domain(policy._ticket_domain()).ids)
        result = {}
        for ticket in tickets:
            for policy in policies:
                if policy._covers(ticket) and (policy not in by_filter or ticket.id in by_filter[policy]):
                    result[ticket] = policy
                    break
        return result

    def _target_hours(self, metric, priority):
        """Working hours allowed for ``metric`` at ``priority``; ``0`` when the policy sets none."""
        self.ensure_one()
        for target in self.target_ids:
            if target.metric == metric and target.priority == priority:
                return target.hours
        return 0.0
