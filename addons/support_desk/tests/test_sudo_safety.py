"""The support desk's ``sudo()``, run by the users they act for: what each one lets them reach.

The SLA engine writes status lines that agents may only read, the assignment reads the
colleagues' leaves and load, the portal opens tickets for customers who may not create any,
the mail gateway judges senders whatever its user may read. Each test goes through the entry
point a user has (a form, a button, the chatter, the portal, the gateway) as that user, and
checks that the engine did its work while the user got no more than their own rights.
"""

import logging
import re

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import at
from .test_mail_gateway import RAW
from .test_sla_clock import SlaClockCase


@tagged("post_install", "-at_install")
class TestSudoSafety(SlaClockCase):
    """An agent of the Paris team (and of two others) under the "Standard" policy (first reply
    2 h, resolution 8 h; 1 h and 4 h at high priority)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ticket = cls.env["support.ticket"]
        # another company's policy, tried first and without conditions: never for this company's tickets
        other_company = cls.env["res.company"].create({"name": "Elsewhere Support Ltd"})
        cls.foreign_policy = cls.env["support.sla"].create(
            {
                "name": "Elsewhere",
                "sequence": 0,
                "company_id": other_company.id,
                "target_ids": [Command.create({"metric": "first_reply", "priority": "0", "hours": 0.5})],
            }
        )
        cls.warning_type = cls.env.ref("support_desk.mail_activity_type_sla_warning")

    def _warnings(self, ticket):
        return ticket.activity_ids.filtered(lambda activity: activity.activity_type_id == self.warning_type)

    def assertNoWayToTheLines(self, user, lines):
        """``user`` may at most read the status lines: no write, create or unlink."""
        Line = self.env["support.ticket.sla"].with_user(user)
        with self.assertRaises(AccessError):
            lines.with_user(user).write({"target_hours": 99.0, "state": "achieved"})
        with self.assertRaises(AccessError):
            lines.with_user(user).unlink()
        with self.assertRaises(AccessError):
            Line.create(
                {
                    "ticket_id": lines.ticket_id[:1].id,
                    "metric": "resolution",
                    "target_hours": 999.0,
                    "date_start": at("2026-01-12 08:00"),
                    "date_checkpoint": at("2026-01-12 08:00"),
                }
            )

    def test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights(self):
        """write, _sla_refit, _sla_set_policies, _sla_open_lines, _match, _warning_settings."""
        with freeze_time(at("2026-01-12 07:00")):
            bystander = self.run_steps([("2026-01-12 07:00", "create", {"name": "Another team's ticket"})])
            bystander.team_id = self.team_ny
        self.env.flush_all()
        untouched = bystander.sla_line_ids.read(["worked_seconds", "date_checkpoint", "deadline", "write_date"])
        Ticket = self.Ticket.with_user(self.agent)
        with freeze_time(at("2026-01-12 08:00")):
            ticket = Ticket.create({"name": "Printer on fire", "team_id": self.team.id, "partner_id": self.contact.id})
            self.env.flush_all()
        # the engine opened the clocks of this company's policy (the other company's is never tried)
        self.assertEqual(ticket.sla_policy_id, self.policy)
        lines = ticket.sudo().sla_line_ids
        self.assertEqual(sorted(lines.mapped("metric")), ["first_reply", "resolution"])
        self.assertEqual(self.line(ticket.sudo(), "first_reply").deadline, at("2026-01-12 10:00"))
        # a change of priority measures the time used and fits the new targets
        with freeze_time(at("2026-01-12 09:00")):
            ticket.write({"priority": "2"})
            self.env.flush_all()
        resolution = self.line(ticket.sudo(), "resolution")
        self.assertEqual((resolution.target_hours, resolution.worked_seconds), (4.0, 3600.0))
        self.assertEqual(resolution.deadline, at("2026-01-12 13:00"), "3 h left from 10:00 Paris, lunch skipped")
        # ... and nothing else: the lines stay the engine's, the other tickets' clocks are not touched
        self.assertEqual(
            self.env["support.ticket.sla"].with_user(self.agent).search([("ticket_id", "=", ticket.id)]), lines
        )
        self.assertNoWayToTheLines(self.agent, lines)
        self.assertFalse(
            self.env["support.ticket.sla"].with_user(self.agent_other).search([("ticket_id", "=", ticket.id)])
        )
        self.env.invalidate_all()
        self.assertEqual(
            bystander.sla_line_ids.read(["worked_seconds", "date_checkpoint", "deadline", "write_date"]), untouched
        )
        # handed over to a team they are not in: the clocks follow it, the ticket leaves the agent's reach
        with freeze_time(at("2026-01-12 10:00")):
            ticket.write({"team_id": self.other_team.id})
            self.env.flush_all()
        self.assertEqual(lines.team_id, self.other_team)
        self.assertEqual(lines.sla_id, self.policy)
        self.assertFalse(Ticket.search([("id", "=", ticket.id)]))
        self.assertFalse(self.env["support.ticket.sla"].with_user(self.agent).search([("ticket_id", "=", ticket.id)]))
        with self.assertRaises(AccessError):
            ticket.with_user(self.agent).write({"priority": "0"})

    def test_an_agents_reply_close_and_reopen_clear_only_their_tickets_warnings(self):
        """_sla_on_message, _sla_clear_warnings, _sla_stage_changed."""
        Ticket = self.Ticket.with_user(self.agent)
        with freeze_time(at("2026-01-12 08:00")):
            mine, other = Ticket.create(
                [
                    {
                        "name": f"Printer {i}",
                        "team_id": self.team.id,
                        "partner_id": self.contact.id,
                        "user_id": self.agent.id,
                    }
                    for i in range(2)
                ]
            )
            self.env.flush_all()
        with freeze_time(at("2026-01-12 09:40")):
            # the periodic check, as its job runs it: both first replies are at risk
            self.Line._cron_check(commit=False)
            self.env.flush_all()
        self.assertTrue(self._warnings(mine) and self._warnings(other))
        with freeze_time(at("2026-01-12 09:45")):
            mine.message_post(body="We are on it.", message_type="comment", subtype_xmlid="mail.mt_comment")
            self.env.flush_all()
        self.assertEqual(mine.date_first_reply, at("2026-01-12 09:45"))
        first = self.line(mine.sudo(), "first_reply")
        self.assertEqual((first.state, first.date_reached), ("achieved", at("2026-01-12 09:45")))
        self.assertFalse(self._warnings(mine), "the warning of the answered ticket is gone")
        self.assertTrue(self._warnings(other), "the other ticket is still at risk: its warning stays")
        self.assertEqual(self.line(other.sudo(), "first_reply").state, "ongoing")
        with freeze_time(at("2026-01-12 09:50")):
            other.with_user(self.agent).action_close()
            self.env.flush_all()
        self.assertFalse(self._warnings(other))
        self.assertTrue(all(other.sudo().sla_line_ids.mapped("date_reached")), "closing stops every clock")
        with freeze_time(at("2026-01-12 10:00")):
            other.with_user(self.agent).action_reopen()
            self.env.flush_all()
        reopened = other.sudo().sla_line_ids.filtered(lambda line: line.cycle == 2)
        self.assertEqual((reopened.metric, reopened.state), ("resolution", "ongoing"))
        self.assertNoWayToTheLines(self.agent, (mine | other).sudo().sla_line_ids)
        self.assertFalse(
            self.env["support.ticket.sla"].with_user(self.agent_other).search([("ticket_id", "in", (mine | other).ids)])
        )

    def test_an_agent_opening_tickets_moves_the_rotation_without_team_rights(self):
        """_assignable_users, _choose_assignees."""
        resource = self.env["resource.resource"].create(
            {"name": self.agent_2.name, "user_id": self.agent_2.id, "calendar_id": self.paris.id}
        )
        with freeze_time(at("2026-01-12 08:00")):
            leave = self.env["resource.calendar.leaves"].create(
                {
                    "name": "Sick leave",
                    "resource_id": resource.id,
                    "calendar_id": self.paris.id,
                    "date_from": at("2026-01-12 00:00"),
                    "date_to": at("2026-01-12 23:00"),
                }
            )
            self.team.assignment_method = "least_loaded"
            self._ticket(user_id=self.agent.id)  # the agent has more open tickets than their colleague
            Ticket = self.Ticket.with_user(self.agent)
            ticket = Ticket.create({"name": "Who takes it?", "team_id": self.team.id})
            self.assertEqual(ticket.user_id, self.agent, "the colleague on leave is skipped")
            self.team.assignment_method = "round_robin"
            tickets = Ticket.create([{"name": f"Turn {i}", "team_id": self.team.id} for i in range(2)])
        self.assertEqual(tickets.user_id, self.agent)
        self.assertEqual(self.team.last_assigned_user_id, self.agent, "the rotation moved on")
        # the leave, the team and the load stay out of the agent's hands
        self.assertFalse(self.env["resource.calendar.leaves"].with_user(self.agent).search([("id", "=", leave.id)]))
        with self.assertRaises(AccessError):
            self.team.with_user(self.agent).write({"last_assigned_user_id": self.agent_2.id})

    def test_a_closure_moves_the_deadlines_of_tickets_its_author_cannot_see(self):
        """_sla_refit_for_calendars, _sla_refit_running."""
        ticket = self.run_steps([("2026-01-16 08:00", "create", None)])
        resolution = self.line(ticket, "resolution")
        self.assertEqual(resolution.deadline, at("2026-01-19 09:00"), "Friday 7 h, Monday 1 h")
        # the administrator of the working hours, who has no support rights
        planner = new_test_user(self.env, "sd_planner", groups="base.group_user,base.group_erp_manager")
        with freeze_time(at("2026-01-16 09:00")):
            self.env["resource.calendar.leaves"].with_user(planner).create(
                {
                    "name": "Closed Monday",
                    "calendar_id": self.paris.id,
                    "date_from": at("2026-01-18 23:00"),
                    "date_to": at("2026-01-19 22:59"),
                }
            )
            self.env.flush_all()
        self.assertEqual(resolution.deadline, at("2026-01-20 09:00"), "the closure pushes it to Tuesday")
        for model in ("support.ticket", "support.ticket.sla"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(planner).search([])

    def test_the_engine_jobs_cannot_be_called_remotely(self):
        """_sla_start_existing (the 1.2 migration's), and the job (its batch size) and refits: not
        for any user's RPC."""
        for model, method, args in (
            ("support.ticket", "_sla_start_existing", [at("2026-01-12 08:00")]),
            ("support.ticket.sla", "_cron_check", []),
            ("support.ticket.sla", "_check_batch_size", []),
            ("support.team", "_sla_refit_for_calendars", [[]]),
        ):
            for user in (self.manager, self.agent, self.portal_user):
                with self.subTest(method=method, user=user.login), self.assertRaises(AccessError):
                    call_kw(self.env[model].with_user(user), method, args, {})


@tagged("post_install", "-at_install")
class TestSudoSafetyGateway(SlaClockCase):
    """The mail gateway run by an agent's account (as ``odoo-mailgate`` may be set up)."""

    def _process(self, sender, subject, message_id, headers=""):
        raw = RAW.format(sender=sender, name="Sender", subject=subject, message_id=message_id, body="Hello")
        if headers:
            raw = raw.replace("MIME-Version: 1.0", f"MIME-Version: 1.0\n{headers}")
        thread_id = (
            self.env["mail.thread"]
            .with_user(self.agent)
            .message_process("support.ticket", raw, custom_values={"team_id": self.team.id})
        )
        return self.env["support.ticket"].browse(thread_id)

    def test_the_gateway_run_by_an_agent_lets_no_stranger_in(self):
        """_support_join_refusal, _support_automatic_reason."""
        catchall = self.env["mail.alias.domain"].create({"name": "support-sudo.example", "catchall_alias": "catchall"})
        with freeze_time(at("2026-01-12 08:00")):
            ticket = self._process("claire@client-co.example", "Printer jams", "g1@client-co.example")
        self.assertEqual(ticket.partner_id, self.contact)
        messages = ticket.message_ids
        with freeze_time(at("2026-01-12 08:10")):
            with self.assertLogs("odoo.addons.support_desk.models.support_ticket", logging.INFO):
                other = self._process("someone@other.example", f"Re: [{ticket.number}] Printer jams", "g2@x.example")
            self._process(
                "someone@other.example",
                f"Automatic reply: [{ticket.number}] Printer jams",
                "g3@x.example",
                headers="Auto-Submitted: auto-replied",
            )
            looped = self._process(catchall.catchall_email, "Undelivered mail", "g4@x.example")
        self.assertNotEqual(other, ticket, "the stranger opens their own ticket")
        self.assertEqual(other.partner_id, self.stranger)
        self.assertEqual(ticket.message_ids, messages, "nothing of the stranger's on the customer's ticket")
        self.assertFalse(looped, "our own address opens no ticket")
        self.assertEqual(self.Line.search_count([("ticket_id", "=", ticket.id), ("metric", "=", "next_reply")]), 0)
        # a follower the agent may not even read (a contact of another company) joins: who the sender
        # is does not depend on what the gateway's user may read
        reseller = self.env["res.company"].create({"name": "Reseller Group"})
        follower = self.env["res.partner"].create(
            {"name": "Rita Reseller", "email": "rita@reseller.example", "company_id": reseller.id}
        )
        ticket.message_subscribe(partner_ids=follower.ids)
        self.assertFalse(self.env["res.partner"].with_user(self.agent).search([("id", "=", follower.id)]))
        with freeze_time(at("2026-01-12 08:20")):
            joined = self._process("rita@reseller.example", f"Re: [{ticket.number}] Printer jams", "g5@x.example")
            customer = self._process("claire@client-co.example", f"Re: [{ticket.number}] Printer jams", "g6@x.example")
        self.assertEqual((joined, customer), (ticket, ticket))
        with self.assertRaises(AccessError):
            ticket.sla_line_ids.with_user(self.agent).write({"state": "achieved"})


@tagged("post_install", "-at_install")
class TestSudoSafetyPortal(HttpCase):
    """A portal customer: what the portal does for them with the engine's rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["support.sla"].search([]).active = False
        cls.agent = new_test_user(cls.env, "sds_agent", groups="support_desk.group_support_user")
        cls.team = cls.env["support.team"].create(
            {
                "name": "Sudo Care",
                "sequence": 0,
                "working_time": "always",
                "member_ids": [Command.set(cls.agent.ids)],
            }
        )
        cls.other_team = cls.env["support.team"].create({"name": "Sudo Billing", "sequence": 1})
        cls.env["support.sla"].create(
            {
                "name": "Sudo policy",
                "target_ids": [
                    Command.create({"metric": metric, "priority": "0", "hours": hours})
                    for metric, hours in (("first_reply", 2), ("next_reply", 4), ("resolution", 8))
                ],
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "Sudo Client Co", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Sam Sudo", "email": "sam@sudo-client.example", "parent_id": cls.customer.id}
        )
        cls.stranger = cls.env["res.partner"].create({"name": "Sudo Stranger", "email": "x@stranger.example"})
        cls.portal_user = new_test_user(
            cls.env,
            "sds_portal",
            groups="base.group_portal",
            partner_id=cls.contact.id,
            email=cls.contact.email,
            password="sds_portal_pw",
        )

    def setUp(self):
        super().setUp()
        self.authenticate("sds_portal", "sds_portal_pw")

    def test_a_customer_opens_a_ticket_for_themselves_only(self):
        """_portal_create_ticket: the form's extra fields choose nothing."""
        form = self.url_open("/my/tickets/new").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        self.url_open(
            "/my/tickets/new",
            data={
                "subject": "Cannot print",
                "description": "Since this morning",
                "partner_id": self.stranger.id,
                "team_id": self.other_team.id,
                "user_id": self.agent.id,
                "priority": "3",
                "csrf_token": token,
            },
        )
        ticket = self.env["support.ticket"].search([("name", "=", "Cannot print")])
        self.assertEqual(len(ticket), 1)
        self.assertEqual((ticket.partner_id, ticket.team_id, ticket.priority), (self.contact, self.team, "0"))
        self.assertEqual(ticket.channel, "portal")
        self.assertNotIn(self.stranger, ticket.message_partner_ids)
        # still no right to create tickets, nor to read the teams, the policies or the clocks
        portal_env = self.env(user=self.portal_user)
        with self.assertRaises(AccessError):
            portal_env["support.ticket"].create({"name": "Direct", "team_id": self.team.id})
        for model in ("support.team", "support.sla", "support.ticket.sla"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                portal_env[model].search([])

    def test_a_customer_reply_in_the_portal_chatter_restarts_the_clock_and_meets_no_target(self):
        """_sla_on_message: the customer's message as the portal posts it."""
        ticket = (
            self.env["support.ticket"]
            .with_user(self.agent)
            .create({"name": "Slow screen", "team_id": self.team.id, "partner_id": self.contact.id})
        )
        ticket.message_post(body="Which model?", message_type="comment", subtype_xmlid="mail.mt_comment")
        ticket.stage_id = self.env.ref("support_desk.stage_waiting")
        self.env.flush_all()
        lines = ticket.sudo().sla_line_ids
        first = lines.filtered(lambda line: line.metric == "first_reply")
        replied = (ticket.date_first_reply, first.state, first.date_reached)
        self.assertEqual(first.state, "achieved")
        self.assertEqual(lines.filtered(lambda line: line.metric == "resolution").state, "paused")
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "support.ticket",
                "thread_id": ticket.id,
                "post_data": {"body": "The X200", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"},
            },
        )
        self.env.invalidate_all()
        self.assertEqual(ticket.message_ids[0].author_id, self.contact)
        self.assertFalse(ticket.is_waiting, "the customer answered: the ticket is back with the team")
        lines = ticket.sudo().sla_line_ids
        self.assertEqual(lines.filtered(lambda line: line.metric == "resolution").state, "ongoing")
        self.assertEqual(lines.filtered(lambda line: line.metric == "next_reply").state, "ongoing")
        self.assertEqual((ticket.date_first_reply, first.state, first.date_reached), replied, "no reply of theirs")
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/support.ticket.sla/search_read",
                {"model": "support.ticket.sla", "method": "search_read", "args": [], "kwargs": {"fields": ["state"]}},
            )
