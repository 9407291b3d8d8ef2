import re

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.fields import Domain

PRIORITIES = [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")]
CHANNELS = [("email", "Email"), ("portal", "Portal"), ("phone", "Phone"), ("web", "Web Form")]
# "[TCK/00042]" in a subject: the reply of a mail client that dropped the threading headers
REFERENCE_IN_SUBJECT = re.compile(r"\[(TCK/\d+)\]")


class SupportTicket(models.Model):
    """A customer's request to the support team, followed to its resolution."""

    _name = "support.ticket"
    _inherit = ["portal.mixin", "mail.thread.cc", "mail.activity.mixin", "rating.mixin"]
    _description = "Support Ticket"
    _order = "priority desc, id desc"
    _primary_email = "partner_email"
    _check_company_auto = True
    _mail_post_access = "read"

    number = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, index="trigram", default=lambda self: "/"
    )
    name = fields.Char(string="Subject", required=True, tracking=True)
    description = fields.Html()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, readonly=False
    )
    team_id = fields.Many2one(
        "support.team",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        default=lambda self: self._default_team(),
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        index=True,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True, check_company=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True, string="Customer Company"
    )
    partner_email = fields.Char(
        string="Email", compute="_compute_partner_email", store=True, readonly=False, index="trigram"
    )
    stage_id = fields.Many2one(
        "support.stage",
        index=True,
        tracking=True,
        copy=False,
        ondelete="restrict",
        group_expand="_read_group_stage_ids",
        domain="['|', ('team_ids', '=', False), ('team_ids', 'in', team_id)]",
        default=lambda self: self._default_stage(),
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True, string="Closed")
    is_waiting = fields.Boolean(related="stage_id.is_waiting", store=True, string="Waiting on Customer")
    priority = fields.Selection(PRIORITIES, default="0", required=True, index=True, tracking=True)
    ticket_type_id = fields.Many2one("support.ticket.type", string="Type", index="btree_not_null", tracking=True)
    tag_ids = fields.Many2many("support.tag", string="Tags")
    channel = fields.Selection(CHANNELS, default="phone", required=True)
    date_last_stage_update = fields.Datetime(string="Last Stage Update", readonly=True, copy=False, index=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True, copy=False, index=True)
    reopen_count = fields.Integer(string="Reopened", readonly=True, copy=False)
    color = fields.Integer()

    # ------------------------------------------------------------------
    # Defaults and computes
    # ------------------------------------------------------------------

    def _default_team(self):
        team_id = self.env.context.get("default_team_id")
        if team_id:
            return self.env["support.team"].browse(team_id)
        teams = self.env["support.team"].search([("company_id", "in", self.env.companies.ids)])
        return teams.filtered(lambda team: self.env.user in team.member_ids)[:1] or teams[:1]

    def _default_stage(self):
        team_id = self.env.context.get("default_team_id")
        return self._first_open_stage(self.env["support.team"].browse(team_id) if team_id else None)

    def _first_open_stage(self, team=None):
        domain = Domain("is_closed", "=", False) & Domain("is_waiting", "=", False)
        if team:
            domain &= Domain("team_ids", "=", False) | Domain("team_ids", "in", team.ids)
        return self.env["support.stage"].search(domain, limit=1)

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        team_id = self.env.context.get("default_team_id")
        stage_domain = Domain("team_ids", "=", False)
        if team_id:
            stage_domain |= Domain("team_ids", "in", [team_id])
        return stages.search(stage_domain | Domain("id", "in", stages.ids))

    @api.depends("partner_id.email")
    def _compute_partner_email(self):
        for ticket in self:
            if ticket.partner_id.email:
                ticket.partner_email = ticket.partner_id.email

    @api.depends("number", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = f"[{ticket.number}] {ticket.name}" if ticket.number != "/" else ticket.name

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("number", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["number"] = self.env["ir.sequence"].with_company(company).next_by_code("support.ticket") or "/"
            if vals.get("team_id") and not vals.get("company_id"):
                vals["company_id"] = self.env["support.team"].browse(vals["team_id"]).company_id.id
            if not vals.get("stage_id") and vals.get("team_id"):
                vals["stage_id"] = self._first_open_stage(self.env["support.team"].browse(vals["team_id"])).id
            vals.setdefault("date_last_stage_update", now)
        tickets = super().create(vals_list)
        tickets._assign_automatically()
        for ticket in tickets.filtered("is_closed"):
            ticket.date_closed = now
        return tickets

    def write(self, vals):
        if "stage_id" not in vals:
            return super().write(vals)
        stage = self.env["support.stage"].browse(vals["stage_id"])
        now = fields.Datetime.now()
        vals = {**vals, "date_last_stage_update": now}
        if stage.is_closed:
            closing = self.filtered(lambda ticket: not ticket.is_closed)
            if closing:
                super(SupportTicket, closing).write({"date_closed": now})
        else:
            for ticket in self.filtered("is_closed"):
                super(SupportTicket, ticket).write({"reopen_count": ticket.reopen_count + 1, "date_closed": False})
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_closed_or_managers(self):
        if not self.env.user.has_group("support_desk.group_support_manager") and self.filtered(
            lambda ticket: not ticket.is_closed
        ):
            raise UserError(self.env._("Only support administrators can delete tickets that are still open."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_assign_to_me(self):
        self.write({"user_id": self.env.user.id})

    def action_close(self):
        for team, tickets in self.grouped("team_id").items():
            domain = Domain("is_closed", "=", True) & (
                Domain("team_ids", "=", False) | Domain("team_ids", "in", team.ids)
            )
            stage = self.env["support.stage"].search(domain, limit=1)
            if not stage:
                raise UserError(self.env._("Team %(team)s has no closing stage.", team=team.name))
            tickets.stage_id = stage

    def action_reopen(self):
        for team, tickets in self.filtered("is_closed").grouped("team_id").items():
            tickets.stage_id = self._first_open_stage(team)

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------

    @api.model
    def _portal_create_ticket(self, subject, description):
        """A ticket the current portal user opens for themselves, in their company's first team."""
        partner = self.env.user.partner_id
        company = partner.company_id or self.env.company
        # sudo: a customer has no right to create tickets directly; this one is theirs, with
        # their own contact as customer, in a team of the company they deal with
        team = self.env["support.team"].sudo().search([("company_id", "=", company.id)], limit=1)
        if not team:
            raise UserError(self.env._("Support does not take tickets online yet: please write to us."))
        ticket = (
            self.sudo()
            .with_context(mail_create_nosubscribe=True)
            .create(
                {
                    "name": subject,
                    "description": tools.plaintext2html(description),
                    "partner_id": partner.id,
                    "team_id": team.id,
                    "channel": "portal",
                }
            )
        )
        ticket.message_subscribe(partner_ids=partner.ids)
        return ticket.with_env(self.env)

    def _portal_close(self, partner):
        """The customer says the matter is settled: the ticket closes, and says who closed it."""
        self.action_close()
        for ticket in self:
            ticket.message_post(
                body=self.env._("Closed by the customer (%(name)s) from the portal.", name=partner.name),
                subtype_xmlid="mail.mt_note",
            )

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------

    def _assign_automatically(self):
        """Give unassigned tickets an agent, per their team's assignment method."""
        for team, tickets in (
            self.filtered(lambda ticket: not ticket.user_id and not ticket.is_closed).grouped("team_id").items()
        ):
            if not team:
                continue
            users = team._choose_assignees(len(tickets))
            for ticket, user in zip(tickets, users, strict=False):
                ticket.user_id = user

    # ------------------------------------------------------------------
    # Mail gateway
    # ------------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An email to a team's alias opens a ticket, or joins the one its subject names."""
        subject = msg_dict.get("subject") or ""
        match = REFERENCE_IN_SUBJECT.search(subject)
        if match:
            ticket = self.search([("number", "=", match.group(1))], limit=1)
            if ticket:
                return ticket
        values = dict(custom_values or {})
        team = self.env["support.team"].browse(values.get("team_id"))
        email = tools.email_normalize(msg_dict.get("email_from") or "") or msg_dict.get("email_from")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id"))
        if not partner and email:
            partner = self.env["res.partner"].search([("email_normalized", "=", email)], limit=1)
            if not partner and (not team or team.create_partner):
                name, address = tools.parse_contact_from_email(msg_dict.get("email_from") or "")
                partner = self.env["res.partner"].create({"name": name or address, "email": address})
        values.update(
            {
                "name": subject or self.env._("No subject"),
                "partner_id": partner.id or False,
                "partner_email": email or False,
                "channel": "email",
            }
        )
        if team:
            values.setdefault("company_id", team.company_id.id)
        # mail.thread would copy the formatted sender ("Ann <ann@x.com>") into the email field
        return super().message_new({**msg_dict, "email_from": email}, custom_values=values)
