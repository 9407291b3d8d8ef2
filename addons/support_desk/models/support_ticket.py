import logging
import re
from collections import defaultdict

import pytz
from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

PRIORITIES = [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")]
CHANNELS = [("email", "Email"), ("portal", "Portal"), ("phone", "Phone"), ("web", "Web Form")]
# "[TCK/00042]" in a subject: the reply of a mail client that dropped the threading headers
REFERENCE_IN_SUBJECT = re.compile(r"\[(TCK/\d{1,12})\]")
# a reference sits at a subject's start ("Re: Fwd: [TCK/00042] ..."); only this much of it is scanned
SUBJECT_SCAN_LENGTH = 500
# the longest subject (portal form, or an email's subject cut to it) and portal description, in characters
SUBJECT_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 64 * 1024
SLA_STATUSES = [
    ("none", "No SLA"),
    ("on_track", "On Track"),
    ("at_risk", "At Risk"),
    ("paused", "Paused"),
    ("failed", "Failed"),
    ("achieved", "Achieved"),
]
# what the desk itself records (the reference, the policy that applies, the clocks' dates): a view shows
# them read-only, and the server refuses them from anyone but the engine (superuser) and administrators
ENGINE_FIELDS = frozenset(
    {
        "number",
        "sla_policy_id",
        "date_last_stage_update",
        "date_closed",
        "reopen_count",
        "date_cycle_start",
        "date_first_reply",
    }
)
# a change of these may change the policy that applies, or its targets
SLA_FIELDS = {"priority", "team_id", "ticket_type_id", "tag_ids", "partner_id", "company_id"}


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
    # SLA
    sla_policy_id = fields.Many2one(
        "support.sla", string="SLA Policy", readonly=True, copy=False, index="btree_not_null"
    )
    sla_line_ids = fields.One2many("support.ticket.sla", "ticket_id", string="SLA Status", copy=False)
    sla_deadline = fields.Datetime(
        string="SLA Deadline",
        compute="_compute_sla_summary",
        store=True,
        index=True,
        help="The nearest deadline among the SLA clocks still running.",
    )
    sla_status = fields.Selection(
        SLA_STATUSES, string="SLA", compute="_compute_sla_summary", store=True, index=True, default="none"
    )
    sla_breached = fields.Boolean(
        string="SLA Ever Breached",
        compute="_compute_sla_summary",
        store=True,
        index=True,
        help="A target of this ticket was missed, in this cycle or a former one.",
    )
    date_cycle_start = fields.Datetime(
        string="Current Cycle Start",
        readonly=True,
        copy=False,
        help="Creation (or the opening date an import gives), or the last reopening.",
    )
    date_first_reply = fields.Datetime(string="First Reply On", readonly=True, copy=False, index=True)

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

    @api.depends("sla_line_ids.state", "sla_line_ids.deadline", "sla_line_ids.warned", "sla_line_ids.cycle")
    def _compute_sla_summary(self):
        for ticket in self:
            lines = ticket.sla_line_ids
            states = set(lines.mapped("state"))
            cycle = max(lines.mapped("cycle"), default=0)
            ongoing = lines.filtered(lambda line: line.state == "ongoing")
            ticket.sla_deadline = min(ongoing.mapped("deadline"), default=False) if ongoing else False
            ticket.sla_breached = "failed" in states
            if not lines:
                ticket.sla_status = "none"
            elif any(line.state == "failed" and line.cycle == cycle for line in lines):
                ticket.sla_status = "failed"
            elif any(ongoing.mapped("warned")):
                ticket.sla_status = "at_risk"
            elif ongoing:
                ticket.sla_status = "on_track"
            elif "paused" in states:
                ticket.sla_status = "paused"
            else:
                ticket.sla_status = "achieved"

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

    def _check_engine_fields(self, vals):
        """Refuse what the desk records itself (``ENGINE_FIELDS``) to agents and clients.

        An agent could otherwise give a ticket another's reference, stop its clocks or mark it
        answered over RPC. Administrators may (an import from another tool brings its dates).
        """
        if self.env.su or self.env.user.has_group("support_desk.group_support_manager"):
            return
        forced = sorted(name for name in ENGINE_FIELDS & vals.keys() if not (name == "number" and vals[name] == "/"))
        if forced:
            raise AccessError(
                self.env._(
                    "%(fields)s of a ticket are recorded by the support desk itself, not set by hand.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in forced),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            self._check_engine_fields(vals)
        for vals in vals_list:
            if vals.get("number", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["number"] = self.env["ir.sequence"].with_company(company).next_by_code("support.ticket") or "/"
            if vals.get("team_id") and not vals.get("company_id"):
                vals["company_id"] = self.env["support.team"].browse(vals["team_id"]).company_id.id
            if not vals.get("stage_id") and vals.get("team_id"):
                vals["stage_id"] = self._first_open_stage(self.env["support.team"].browse(vals["team_id"])).id
            vals.setdefault("date_last_stage_update", now)
            vals.setdefault("date_cycle_start", now)
        tickets = super().create(vals_list)
        tickets._support_follow_customers()
        tickets._assign_automatically()
        closed = tickets.filtered("is_closed")
        if closed:
            super(SupportTicket, closed).write({"date_closed": now})
        tickets._sla_start(now)
        return tickets

    def write(self, vals):
        self._check_engine_fields(vals)
        now = fields.Datetime.now()
        sla_changed = bool(SLA_FIELDS & vals.keys())
        if sla_changed:
            # the time used so far is measured by the clock of the team it was used under. sudo: the
            # clocks are the engine's (agents only read them); a checkpoint moves no total, and
            # super().write() below still checks the caller's right to change these tickets
            self.sudo().sla_line_ids._checkpoint(now)
        former_customers = {ticket: ticket.partner_id for ticket in self} if "partner_id" in vals else None
        if "stage_id" not in vals:
            result = super().write(vals)
            if sla_changed:
                self._sla_refit(now)
            if former_customers is not None:
                self._support_customers_changed(former_customers)
            return result
        stage = self.env["support.stage"].browse(vals["stage_id"])
        before = {ticket: (ticket.is_closed, ticket.is_waiting) for ticket in self}
        vals = {**vals, "date_last_stage_update": now}
        if stage.is_closed:
            closing = self.filtered(lambda ticket: not ticket.is_closed)
            if closing:
                super(SupportTicket, closing).write({"date_closed": now})
        else:
            for ticket in self.filtered("is_closed"):
                super(SupportTicket, ticket).write(
                    {"reopen_count": ticket.reopen_count + 1, "date_closed": False, "date_cycle_start": now}
                )
        result = super().write(vals)
        if sla_changed:
            self._sla_refit(now)
        if former_customers is not None:
            self._support_customers_changed(former_customers)
        self._sla_stage_changed(before, now)
        return result

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
        # a button any client can call over RPC: refused to whoever may not change the tickets, even
        # when there is nothing to reopen
        self.check_access("write")
        for team, tickets in self.filtered("is_closed").grouped("team_id").items():
            tickets.stage_id = self._first_open_stage(team)

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------

    @api.model
    def _portal_ticket_errors(self, subject, description):
        """What keeps a customer's new ticket from being opened, per form field (empty: nothing).

        The sizes are capped here, on the server: the form's own limits are the browser's to ignore,
        and a description of megabytes would only cost time to whoever handles it.
        """
        errors = {}
        if not subject:
            errors["subject"] = self.env._("Say in a few words what it is about.")
        elif len(subject) > SUBJECT_MAX_LENGTH:
            errors["subject"] = self.env._(
                "The subject is too long (%(length)s characters): keep it under %(max)s and put the details "
                "in the description.",
                length=len(subject),
                max=SUBJECT_MAX_LENGTH,
            )
        if not description:
            errors["description"] = self.env._("Describe what you need.")
        elif len(description) > DESCRIPTION_MAX_LENGTH:
            errors["description"] = self.env._(
                "The description is too long (%(length)s characters, at most %(max)s): shorten it, "
                "and send long logs as attachments once the ticket is open.",
                length=len(description),
                max=DESCRIPTION_MAX_LENGTH,
            )
        return errors

    @api.model
    def _portal_create_ticket(self, subject, description):
        """A ticket the current portal user opens for themselves, in their company's first team."""
        errors = self._portal_ticket_errors(subject, description)
        if errors:
            raise UserError("\n".join(errors.values()))
        partner = self.env.user.partner_id
        company = partner.company_id or self.env.company
        # sudo: a customer has no right to create tickets directly; this one is theirs, with
        # their own contact as customer (hence follower), in a team of the company they deal with
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
    def _support_ticket_from_subject(self, subject):
        """The ticket whose reference (``[TCK/00042]``) a subject carries, if any.

        Only the subject's start is scanned: that is where a reply puts the reference, and an
        email's subject has no size limit.
        """
        match = REFERENCE_IN_SUBJECT.search((subject or "")[:SUBJECT_SCAN_LENGTH])
        return self.search([("number", "=", match.group(1))], limit=1) if match else self.browse()

    def _support_join_refusal(self, author, email, team=None):
        """Why an email may not join this ticket by the reference in its subject, else ``""``.

        The reference is no proof: anyone can type it. The email joins only if its sender
        (``author``, a partner, or the normalized ``email``) is the customer, a contact of the
        customer's company, a follower or an internal user of the ticket's company, and if it
        came through the alias of a team of the ticket's company (``team``, when given).
        The reason is for the log, in English.
        """
        self.ensure_one()
        # sudo: who the sender is (their contacts and users, the ticket's followers) must not depend
        # on the rights of the user the gateway runs as; nothing but the refusal's reason comes out
        ticket = self.sudo()
        if team and team.sudo().company_id != ticket.company_id:
            return "the alias's team belongs to another company"
        if email and email == tools.email_normalize(ticket.partner_email or ""):
            return ""
        senders = author.sudo()  # sudo: see above, the sender's contacts and users are compared only
        if email:
            # sudo: every contact of that address, whoever may read them; only compared below
            senders |= self.env["res.partner"].sudo().search([("email_normalized", "=", email)])
        if not senders:
            return "the sender is unknown"
        if senders & ticket.partner_id or senders & ticket.message_partner_ids:
            return ""
        if ticket.commercial_partner_id and ticket.commercial_partner_id in senders.commercial_partner_id:
            return ""
        if any(not user.share and ticket.company_id in user.company_ids for user in senders.user_ids):
            return ""
        return "the sender is not its customer, a contact of their company, a follower or one of our users"

    @api.model
    def _support_ticket_to_join(self, msg_dict, team=None):
        """The ticket an incoming email joins by the reference in its subject, if it belongs there.

        Otherwise none, and the log says why: the email is handled as a new request.
        """
        ticket = self._support_ticket_from_subject(msg_dict.get("subject"))
        if not ticket:
            return ticket
        email = tools.email_normalize(msg_dict.get("email_from") or "")
        author = self.env["res.partner"].browse(msg_dict.get("author_id"))
        reason = ticket._support_join_refusal(author, email, team)
        if reason:
            _logger.info(
                "Email from %s with Message-Id %s names ticket %s in its subject but does not join it (%s): "
                "handled as a new request",
                email or msg_dict.get("email_from"),
                msg_dict.get("message_id"),
                ticket.number,
                reason,
            )
            return self.browse()
        return ticket

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An email to a team's alias opens a ticket, or joins the one its subject names if it belongs there."""
        values = dict(custom_values or {})
        team = self.env["support.team"].browse(values.get("team_id"))
        ticket = self._support_ticket_to_join(msg_dict, team)
        if ticket:
            return ticket
        subject = (msg_dict.get("subject") or "").strip()
        if len(subject) > SUBJECT_MAX_LENGTH:
            # the message keeps the whole subject; the ticket's fits in a list, and in a reply's subject
            subject = subject[: SUBJECT_MAX_LENGTH - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
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

    def _message_post_after_hook(self, message, msg_values):
        result = super()._message_post_after_hook(message, msg_values)
        self._sla_on_message(message)
        return result

    # ------------------------------------------------------------------
    # Followers and recipients
    # ------------------------------------------------------------------

    def _support_follow_customers(self):
        """Each ticket's customer follows it: a public reply, posted by an agent or by code, reaches them."""
        tickets = self.filtered(lambda ticket: ticket.partner_id.active)
        for partner, partner_tickets in tickets.grouped("partner_id").items():
            # the caller has created or written the tickets: the right to change their followers is checked
            partner_tickets._message_subscribe(partner_ids=partner.ids)

    def _support_customers_changed(self, former_customers):
        """The new customer follows; moved to another customer company, the former one's contacts stop.

        Followers receive the ticket's replies. The customer's company may read the ticket on the
        portal; the company it was filed under by mistake may not, nor receive what follows.
        """
        self._support_follow_customers()
        leaving = defaultdict(list)
        for ticket, former in former_customers.items():
            company = former.commercial_partner_id
            if not company or company == ticket.commercial_partner_id:
                continue
            for partner in ticket.message_partner_ids:
                if partner.partner_share and partner.commercial_partner_id == company:
                    leaving[partner].append(ticket.id)
        for partner, ids in leaving.items():
            self.browse(ids).message_unsubscribe(partner_ids=partner.ids)

    def _message_add_suggested_recipients(self, force_primary_email=False):
        """The customer alone: not the assignee (a follower already), nor the addresses in copy."""
        defaults = self._message_add_default_recipients()
        forced = tools.mail.email_split_and_format_normalize(force_primary_email) if force_primary_email else None
        return {
            ticket.id: {
                "partners": defaults[ticket.id]["partners"],
                "email_to_lst": forced if forced is not None else defaults[ticket.id]["email_to_lst"],
            }
            for ticket in self
        }

    def _message_get_suggested_recipients_batch(
        self, reply_discussion=False, reply_message=None, no_create=True, primary_email=False, additional_partners=None
    ):
        """A reply is suggested to the ticket's customer and reaches its followers, nobody else.

        Not to the authors, the addressees and the copies of the mails it answers: a stranger who
        wrote to the ticket, or an address someone put in copy, must not receive its replies.
        """
        return super()._message_get_suggested_recipients_batch(
            reply_discussion=False,
            reply_message=None,
            no_create=no_create,
            primary_email=primary_email,
            additional_partners=additional_partners,
        )

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """An internal note never reaches a customer's mailbox, not even one named in it."""
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        msg_vals = msg_vals or {}
        # sudo: the message's subtype and internal flag, read only to take customers out of an
        # internal note's recipients (never to add any)
        subtype_id = msg_vals["subtype_id"] if "subtype_id" in msg_vals else message.sudo().subtype_id.id
        internal = msg_vals["is_internal"] if "is_internal" in msg_vals else message.sudo().is_internal
        if internal or self.env["mail.message.subtype"].browse(subtype_id).sudo().internal:
            recipients = [recipient for recipient in recipients if not recipient["share"]]
        return recipients

    def _notify_by_email_get_base_mail_values(self, message, recipients_data, additional_values=None):
        """Every mail about a ticket has its reference in the subject, so that a reply finds it back."""
        values = super()._notify_by_email_get_base_mail_values(
            message, recipients_data, additional_values=additional_values
        )
        if len(self) == 1 and self.number != "/":
            reference = f"[{self.number}]"
            subject = values.get("subject", message.subject) or ""
            if reference not in subject:
                values["subject"] = f"{reference} {subject}" if subject else self.display_name
        return values

    # ------------------------------------------------------------------
    # SLA clocks
    # ------------------------------------------------------------------

    def _sla_line_values(self, policy, metric, cycle, start, now, worked=0.0):
        self.ensure_one()
        return {
            "ticket_id": self.id,
            "sla_id": policy.id,
            "metric": metric,
            "cycle": cycle,
            "target_hours": policy._target_hours(metric, self.priority),
            "date_start": start,
            "date_checkpoint": now,
            "worked_seconds": worked,
            "state": "paused" if self.is_waiting else "ongoing",
            "is_paused": self.is_waiting,
        }

    def _sla_open_lines(self, vals_list):
        """Create status lines, the deadlines of the running ones fitted in one pass per clock."""
        Line = self.env["support.ticket.sla"].sudo()  # sudo: SLA status is the engine's bookkeeping
        if not vals_list:
            return Line
        ongoing = [vals for vals in vals_list if vals["state"] == "ongoing"]
        if ongoing:
            tickets = self.browse([vals["ticket_id"] for vals in ongoing])
            fitted = Line._fit_values(
                [tickets.browse(vals["ticket_id"]).team_id for vals in ongoing],
                [vals["date_checkpoint"] for vals in ongoing],
                [vals["worked_seconds"] for vals in ongoing],
                [vals["target_hours"] for vals in ongoing],
            )
            for vals, extra in zip(ongoing, fitted, strict=True):
                vals.update(extra)
        return Line.create(vals_list)

    def _sla_set_policies(self, policies):
        by_policy = defaultdict(list)
        for ticket in self:
            policy = policies.get(ticket, self.env["support.sla"])
            if ticket.sla_policy_id != policy:
                by_policy[policy].append(ticket.id)
        for policy, ids in by_policy.items():
            # sudo: the policy the engine found, on the tickets the caller has just created or changed
            # (a change of team may have taken them out of the caller's reach)
            self.browse(ids).sudo().write({"sla_policy_id": policy.id})

    def _sla_start(self, now):
        """New tickets: the first-reply and resolution clocks of the policy that applies start.

        They start at the ticket's cycle start: now, or the date an import gives (a ticket
        brought from another tool keeps the time it has already waited).
        """
        tickets = self.filtered(lambda ticket: not ticket.is_closed)
        if not tickets:
            return
        policies = self.env["support.sla"]._match(tickets)
        tickets._sla_set_policies(policies)
        vals_list = []
        for ticket in tickets:
            policy = policies.get(ticket)
            if not policy:
                continue
            for metric in ("first_reply", "resolution"):
                if policy._target_hours(metric, ticket.priority):
                    start = min(ticket.date_cycle_start or now, now)
                    vals_list.append(ticket._sla_line_values(policy, metric, 1, start, start))
        self._sla_open_lines(vals_list)

    @api.model
    def _sla_start_existing(self, now):
        """Open tickets without clocks (those of before the SLA engine) get them, as of ``now``.

        The clocks count from the ticket's creation, so that the time already waited counts. A target
        already missed at ``now`` (the upgrade) is failed as handled: its escalation belongs to
        the past, and the upgrade raises no priority, reassigns nothing and mails nobody. A clock
        whose deadline lies after ``now`` runs, warns and escalates like any other.
        Called by the 1.2 migration.
        """
        self.env.cr.execute(
            SQL("UPDATE support_ticket SET date_cycle_start = create_date WHERE date_cycle_start IS NULL")
        )
        self.invalidate_model(["date_cycle_start"])
        # archived tickets too, but not archived policies: no active_test in the context
        tickets = self.search([("is_closed", "=", False), ("active", "in", [True, False])]).filtered(
            lambda ticket: not ticket.sla_line_ids
        )
        tickets._sla_start(now)
        # sudo: SLA status is the engine's bookkeeping; run by the migration only (private: no RPC)
        Line = self.env["support.ticket.sla"].sudo()
        past = Line.search([("ticket_id", "in", tickets.ids), ("state", "=", "ongoing"), ("deadline", "<=", now)])
        past._fail(now)
        past.write({"escalated": True})
        return tickets

    def _sla_refit(self, now):
        """Priority, team, type, tags or customer changed: the policy and targets are found anew.

        The working time already used is kept: running clocks are measured up to now, then
        get the new target; a metric the new policy adds starts from the cycle's start; one
        it drops is removed (a failed or achieved line stays as history).
        """
        tickets = self.filtered(lambda ticket: not ticket.is_closed)
        if not tickets:
            return
        Line = self.env["support.ticket.sla"].sudo()  # sudo: SLA status is the engine's bookkeeping
        policies = self.env["support.sla"]._match(tickets)
        tickets._sla_set_policies(policies)
        # the running clocks were measured up to now by write(), under the team they ran for
        dropped = Line
        refit = Line
        new_lines = []
        missing_starts = []
        for ticket in tickets:
            policy = policies.get(ticket, self.env["support.sla"])
            lines = ticket.sudo().sla_line_ids  # sudo: the engine's clocks, refitted, never shown
            cycle = max(lines.mapped("cycle"), default=1)
            for line in lines.filtered(lambda line: line.state in ("ongoing", "paused")):
                hours = policy and policy._target_hours(line.metric, ticket.priority)
                if not hours:
                    dropped |= line
                else:
                    if line.sla_id != policy or line.target_hours != hours:
                        line.write({"sla_id": policy.id, "target_hours": hours})
                    refit |= line  # the team, hence the clock, may have changed too
            if not policy:
                continue
            wanted = ["resolution"] if ticket.date_first_reply else ["first_reply", "resolution"]
            current = lines.filtered(lambda line, cycle=cycle: line.cycle == cycle)
            for metric in wanted:
                if policy._target_hours(metric, ticket.priority) and metric not in current.mapped("metric"):
                    new_lines.append(ticket._sla_line_values(policy, metric, cycle, ticket.date_cycle_start, now))
                    missing_starts.append(ticket)
        if new_lines:
            # a clock the new policy adds counts the working time since the cycle started
            worked = Line._measure(
                [ticket.team_id for ticket in missing_starts],
                [vals["date_start"] for vals in new_lines],
                [now] * len(new_lines),
            )
            for vals, seconds in zip(new_lines, worked, strict=True):
                vals["worked_seconds"] = seconds
        dropped.unlink()
        refit._fit()
        self._sla_open_lines(new_lines)

    def _sla_stage_changed(self, before, now):
        """Pause in waiting stages, resume out of them, stop at closing, a new cycle on reopening."""
        Line = self.env["support.ticket.sla"].sudo()  # sudo: SLA status is the engine's bookkeeping
        to_reach, to_pause, to_resume = Line, Line, Line
        reopened = self.browse()
        for ticket in self:
            was_closed, was_waiting = before[ticket]
            # failed lines not yet reached keep counting: they pause, resume and stop like the others
            # sudo: the engine's clocks of a ticket the caller has just moved
            running = ticket.sudo().sla_line_ids.filtered(lambda line: not line.date_reached)
            if ticket.is_closed and not was_closed:
                to_reach |= running
            elif was_closed and not ticket.is_closed:
                reopened |= ticket
            elif ticket.is_waiting and not was_waiting:
                to_pause |= running
            elif was_waiting and not ticket.is_waiting:
                to_resume |= running
        # straight from waiting to solved: the paused time stays out of the resolution time
        to_reach._reach(now)
        to_reach.ticket_id._sla_clear_warnings()
        to_pause._pause(now)
        to_resume._resume(now)
        if reopened:
            policies = self.env["support.sla"]._match(reopened)
            reopened._sla_set_policies(policies)
            vals_list = []
            for ticket in reopened:
                policy = policies.get(ticket)
                if policy and policy._target_hours("resolution", ticket.priority):
                    # sudo: the number of the next cycle, from the engine's clocks
                    cycle = max(ticket.sudo().sla_line_ids.mapped("cycle"), default=0) + 1
                    vals_list.append(ticket._sla_line_values(policy, "resolution", cycle, now, now))
            self._sla_open_lines(vals_list)

    def _sla_clear_warnings(self):
        """The "SLA at risk" activities of tickets that have no clock at risk any more are removed."""
        # sudo: the clocks are read to decide, nothing of them is shown; only these tickets' warnings go
        safe = self.filtered(
            lambda ticket: not any(line.state == "ongoing" and line.warned for line in ticket.sudo().sla_line_ids)
        )
        if safe:
            safe.activity_unlink(["support_desk.mail_activity_type_sla_warning"])

    def _sla_is_agent_reply(self, message):
        author = message.author_id
        return (
            author
            and author != self.env.ref("base.partner_root")
            and author not in self.partner_id
            and any(not user.share for user in author.user_ids)
        )

    def _sla_on_message(self, message):
        """A public reply by an agent meets the reply clocks; a customer's message starts a next-reply clock."""
        if (
            message.message_type not in ("comment", "email")
            or message.subtype_id != self.env.ref("mail.mt_comment")
            or self.env.context.get("support_automatic_email")  # an out-of-office reply answers nothing
        ):
            return
        now = fields.Datetime.now()
        for ticket in self:
            # sudo: posting needs only read access; the clocks are the engine's, met or started by this
            # message alone (an agent's reply or a customer's message, by its author)
            lines = ticket.sudo().sla_line_ids
            if ticket._sla_is_agent_reply(message):
                if not ticket.date_first_reply:
                    ticket.sudo().date_first_reply = now  # sudo: this reply's date, as the engine records it
                # a failed clock stays failed, but its reply is dated
                lines.filtered(
                    lambda line: line.metric in ("first_reply", "next_reply") and not line.date_reached
                )._reach(now)
                ticket._sla_clear_warnings()
                continue
            if ticket.is_closed:
                continue
            if ticket.is_waiting:
                # the customer answered: the ticket is back with the team, its clocks run again
                ticket.stage_id = ticket._first_open_stage(ticket.team_id)
            policy = ticket.sla_policy_id
            awaiting = lines.filtered(
                lambda line: line.metric in ("first_reply", "next_reply") and line.state in ("ongoing", "paused")
            )
            if (
                ticket.date_first_reply
                and policy
                and not awaiting
                and policy._target_hours("next_reply", ticket.priority)
            ):
                cycle = max(lines.mapped("cycle"), default=1)
                ticket._sla_open_lines([ticket._sla_line_values(policy, "next_reply", cycle, now, now)])

    def _sla_format(self, moment):
        """A moment as the team reads it: in its calendar's time zone."""
        self.ensure_one()
        return tools.format_datetime(self.env, moment, tz=self.team_id.tz or "UTC", dt_format="short")

    def _sla_metric_labels(self):
        return dict(self.env["support.ticket.sla"]._fields["metric"]._description_selection(self.env))

    def _sla_escalate(self, lines):
        """Breached lines: the policy's escalation acts on their tickets, and the chatter says what it did.

        Set-based: tickets that get the same changes are written together (one refit of their
        clocks per group), and the notes are logged in one batch; only a policy that notifies
        users posts a message per ticket (it must reach their inbox).
        """
        labels = self._sla_metric_labels()
        priorities = [key for key, _label in PRIORITIES]
        priority_labels = dict(self._fields["priority"]._description_selection(self.env))
        bot = self.env.ref("base.partner_root")
        by_ticket = lines.grouped("ticket_id")
        changes = defaultdict(list)
        bodies = {}
        notified = {}
        for ticket in self:
            failed = by_ticket[ticket]
            policy = failed.sla_id[:1] or ticket.sla_policy_id
            missed = ", ".join(
                self.env._(
                    "%(metric)s (target %(hours)s h, due %(deadline)s)",
                    metric=labels[line.metric],
                    hours=f"{line.target_hours:g}",
                    deadline=ticket._sla_format(line.date_failed),
                )
                for line in failed
            )
            actions = []
            vals = {}
            if policy.escalate_raise_priority and ticket.priority != priorities[-1]:
                vals["priority"] = priorities[priorities.index(ticket.priority) + 1]
                actions.append(
                    self.env._("priority raised to %(priority)s", priority=priority_labels[vals["priority"]])
                )
            leader = ticket.team_id.leader_id
            if policy.escalate_to_leader and leader and ticket.user_id != leader:
                vals["user_id"] = leader.id
                actions.append(self.env._("reassigned to %(user)s", user=leader.name))
            partners = policy.escalate_notify_user_ids.partner_id
            if partners:
                actions.append(self.env._("%(names)s notified", names=", ".join(partners.mapped("name"))))
                notified[ticket] = partners
            if vals:
                changes[tuple(sorted(vals.items()))].append(ticket.id)
            body = self.env._("SLA breached: %(missed)s.", missed=missed)
            if actions:
                body += " " + self.env._("Escalation: %(actions)s.", actions="; ".join(actions))
            bodies[ticket.id] = Markup("<p>%s</p>") % body
        for vals, ids in changes.items():
            self.browse(ids).write(dict(vals))
        for ticket, partners in notified.items():
            # the mail goes to Odoo's mail queue, not sent by this job after its commit: its
            # mail.mail row wakes the queue's cron, which would send the same mail in a second
            # transaction (the soak saw the queue's run fail on that concurrent update); the job
            # (SupportTicketSla._cron_check) says so for every mail it makes, this says it here too
            ticket.with_context(mail_notify_force_send=False).message_post(
                body=bodies.pop(ticket.id), subtype_xmlid="mail.mt_note", author_id=bot.id, partner_ids=partners.ids
            )
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies, author_id=bot.id)
        lines.write({"escalated": True})

    def _sla_warn(self, lines):
        """Lines near their deadline: the assignee (or the team leader) gets an activity, the chatter a note."""
        labels = self._sla_metric_labels()
        bot = self.env.ref("base.partner_root")
        activity_type = self.env.ref("support_desk.mail_activity_type_sla_warning")
        model_id = self.env["ir.model"]._get_id(self._name)
        by_ticket = lines.grouped("ticket_id")
        bodies = {}
        activities = []
        for ticket in self:
            warned = by_ticket[ticket]
            deadline = min(warned.mapped("deadline"))
            summary = self.env._(
                "SLA at risk: %(metrics)s due %(deadline)s",
                metrics=", ".join(labels[line.metric] for line in warned),
                deadline=ticket._sla_format(deadline),
            )
            user = ticket.user_id or ticket.team_id.leader_id
            if user:
                tz = pytz.timezone(ticket.team_id.tz or "UTC")
                activities.append(
                    {
                        "res_model_id": model_id,
                        "res_id": ticket.id,
                        "activity_type_id": activity_type.id,
                        "summary": summary,
                        "user_id": user.id,
                        "date_deadline": pytz.utc.localize(deadline).astimezone(tz).date(),
                        "automated": True,
                    }
                )
            bodies[ticket.id] = Markup("<p>%s</p>") % summary
        # the activity shows in the assignee's activities at once; no assignment email for each warning
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(activities)
        if bodies:
            self._message_log_batch(bodies, author_id=bot.id)
