from ast import literal_eval

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain

ASSIGNMENT_METHODS = [
    ("manual", "Manually"),
    ("round_robin", "In turn (round robin)"),
    ("least_loaded", "To the least loaded member"),
]


class SupportTeam(models.Model):
    """A support team: its members, its working hours, its email alias and how it assigns tickets."""

    _name = "support.team"
    _inherit = ["mail.alias.mixin.optional", "mail.thread"]
    _description = "Support Team"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    member_ids = fields.Many2many(
        "res.users",
        "support_team_member_rel",
        "team_id",
        "user_id",
        string="Members",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Agents who handle the team's tickets; automatic assignment chooses among them.",
    )
    leader_id = fields.Many2one(
        "res.users",
        string="Team Leader",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Receives the tickets that an SLA escalation reassigns.",
    )
    working_time = fields.Selection(
        [("calendar", "Working hours"), ("always", "Around the clock (24/7)")],
        required=True,
        default="calendar",
        help="SLA targets are counted in the working hours of the calendar below, or in plain hours for 24/7 teams.",
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        check_company=True,
        compute="_compute_resource_calendar_id",
        store=True,
        readonly=False,
        help="Hours, time zone, public holidays and closures used to compute SLA deadlines.",
    )
    tz = fields.Selection(related="resource_calendar_id.tz", string="Time Zone")
    alias_contact = fields.Selection(related="alias_id.alias_contact", readonly=False, string="Accept Emails From")
    assignment_method = fields.Selection(ASSIGNMENT_METHODS, required=True, default="manual")
    last_assigned_user_id = fields.Many2one("res.users", readonly=True, copy=False)
    create_partner = fields.Boolean(
        string="Create Contacts for Unknown Senders",
        default=True,
        help="An email from an unknown address creates a contact; otherwise the ticket keeps the address only.",
    )
    ticket_ids = fields.One2many("support.ticket", "team_id", string="Tickets")
    open_ticket_count = fields.Integer(compute="_compute_ticket_counts", string="Open Tickets")
    unassigned_ticket_count = fields.Integer(compute="_compute_ticket_counts", string="Unassigned Tickets")
    sla_at_risk_count = fields.Integer(compute="_compute_ticket_counts", string="Tickets at Risk")
    sla_failed_count = fields.Integer(compute="_compute_ticket_counts", string="Tickets with a Failed SLA")

    @api.constrains("working_time", "resource_calendar_id")
    def _check_calendar(self):
        for team in self:
            if team.working_time == "calendar" and not team.resource_calendar_id:
                raise ValidationError(
                    self.env._(
                        "Team %(team)s counts its SLAs in working hours: give it working hours, "
                        "or make it a 24/7 team.",
                        team=team.name,
                    )
                )

    @api.constrains("working_time", "resource_calendar_id")
    def _check_calendar_has_hours(self):
        for team in self:
            if (
                team.working_time == "calendar"
                and team.resource_calendar_id
                and not team.resource_calendar_id.attendance_ids
            ):
                raise ValidationError(
                    self.env._(
                        "The working hours %(calendar)s of team %(team)s have no working time: "
                        "SLA deadlines could never be reached. Add working hours, or make it a 24/7 team.",
                        calendar=team.resource_calendar_id.name,
                        team=team.name,
                    )
                )

    @api.depends("company_id", "working_time")
    def _compute_resource_calendar_id(self):
        for team in self:
            calendar = team.resource_calendar_id
            if team.working_time == "calendar" and (
                not calendar or calendar.company_id not in (team.company_id, False)
            ):
                team.resource_calendar_id = team.company_id.resource_calendar_id

    @api.depends("ticket_ids.stage_id", "ticket_ids.user_id", "ticket_ids.sla_status")
    def _compute_ticket_counts(self):
        open_domain = Domain("team_id", "in", self.ids) & Domain("is_closed", "=", False)
        counts = dict(self.env["support.ticket"]._read_group(open_domain, ["team_id"], ["__count"]))
        unassigned = dict(
            self.env["support.ticket"]._read_group(
                open_domain & Domain("user_id", "=", False), ["team_id"], ["__count"]
            )
        )
        by_status = {
            (team, status): count
            for team, status, count in self.env["support.ticket"]._read_group(
                open_domain & Domain("sla_status", "in", ["at_risk", "failed"]), ["team_id", "sla_status"], ["__count"]
            )
        }
        for team in self:
            team.open_ticket_count = counts.get(team, 0)
            team.unassigned_ticket_count = unassigned.get(team, 0)
            team.sla_at_risk_count = by_status.get((team, "at_risk"), 0)
            team.sla_failed_count = by_status.get((team, "failed"), 0)

    def write(self, vals):
        result = super().write(vals)
        if {"working_time", "resource_calendar_id"} & vals.keys():
            self._sla_refit_running()
        return result

    # ------------------------------------------------------------------
    # SLA clocks
    # ------------------------------------------------------------------

    def _sla_refit_running(self):
        """The teams' clock changed: the running SLA deadlines are fitted to it again."""
        if not self:
            return
        # sudo: deadlines follow the team's hours whoever changes them
        self.env["support.ticket.sla"].sudo().search([("team_id", "in", self.ids), ("state", "=", "ongoing")])._fit()

    @api.model
    def _sla_refit_for_calendars(self, calendars, companies=None):
        """Working hours, holidays or closures changed: the teams that count in them refit their deadlines."""
        if not calendars and not companies:
            return
        domain = Domain("working_time", "=", "calendar") & (
            Domain("resource_calendar_id", "in", calendars.ids)
            | Domain("company_id", "in", companies.ids if companies else [])
        )
        # sudo: every team counting in these hours is concerned, including ones the editor cannot see
        self.sudo().with_context(active_test=False).search(domain)._sla_refit_running()

    # ------------------------------------------------------------------
    # Mail alias
    # ------------------------------------------------------------------

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get("support.ticket").id
        if self.id:
            values["alias_defaults"] = defaults = literal_eval(self.alias_defaults or "{}")
            defaults["team_id"] = self.id
        return values

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------

    def _assignable_users(self):
        """Members who can take a ticket now: active agents not on leave at this moment."""
        self.ensure_one()
        users = self.member_ids.filtered(lambda user: user.active and not user.share)
        if not users:
            return users
        now = fields.Datetime.now()
        # sudo: whether a colleague is on leave now, not the leave's details, decides the assignment
        absent = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id.user_id", "in", users.ids),
                    ("date_from", "<=", now),
                    ("date_to", ">=", now),
                ]
            )
            .resource_id.user_id
        )
        return users - absent

    def _choose_assignees(self, count):
        """The agents for ``count`` new tickets of this team, per its assignment method (may be empty)."""
        self.ensure_one()
        if self.assignment_method == "manual" or count <= 0:
            return []
        users = self._assignable_users().sorted("id")
        if not users:
            return []
        if self.assignment_method == "round_robin":
            ids = users.ids
            last = self.last_assigned_user_id.id
            start = next((i + 1 for i, user_id in enumerate(ids) if user_id > last), 0) if last else 0
            chosen = [users.browse(ids[(start + i) % len(ids)]) for i in range(count)]
        else:
            # sudo: the load of each colleague (open tickets of the team) is counted, not shown
            load = dict(
                self.env["support.ticket"]
                .sudo()
                ._read_group(
                    [("team_id", "=", self.id), ("is_closed", "=", False), ("user_id", "in", users.ids)],
                    ["user_id"],
                    ["__count"],
                )
            )
            counts = {user: load.get(user, 0) for user in users}
            chosen = []
            for _i in range(count):
                user = min(users, key=lambda u: (counts[u], u.id))
                counts[user] += 1
                chosen.append(user)
        self.sudo().last_assigned_user_id = chosen[-1]  # sudo: bookkeeping of the rotation, agents may not edit teams
        return chosen

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_tickets(self):
        self.ensure_one()
        self.check_access("read")  # the action names the team: only for those who may see it
        action = self.env["ir.actions.act_window"]._for_xml_id("support_desk.action_support_ticket")
        action["domain"] = [("team_id", "=", self.id)]
        action["context"] = {"default_team_id": self.id, "search_default_open": 1}
        return action
