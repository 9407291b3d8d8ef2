from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.suite_batch_job.tests.common import call_cron, call_cron_to_end

from .common import SupportCase, at, office_calendars, run_migration


def hours(value):
    return value * 3600.0


@tagged("post_install", "-at_install")
class SlaClockCase(SupportCase):
    """A Paris team (9-12, 13-17, a public holiday on Wednesday 14 January 2026), a New York team
    and a 24/7 team, all under one policy: first reply 2 h, next reply 4 h, resolution 8 h at normal
    priority; 1 h and 4 h at high priority. UTC is Paris minus one hour in winter, two in summer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the user's own time zone must not matter, only the team's
        cls.env = cls.env(context=dict(cls.env.context, tz="Asia/Tokyo"))
        cls.paris, cls.new_york = office_calendars(cls.env)
        cls.team.write({"resource_calendar_id": cls.paris.id})
        cls.team_ny = cls.env["support.team"].create(
            {"name": "US desk", "resource_calendar_id": cls.new_york.id, "member_ids": [Command.set(cls.agent.ids)]}
        )
        cls.team_always = cls.env["support.team"].create(
            {"name": "Night desk", "working_time": "always", "member_ids": [Command.set(cls.agent.ids)]}
        )
        cls.policy = cls.env["support.sla"].create(
            {
                "name": "Standard",
                "target_ids": [
                    Command.create({"metric": "first_reply", "priority": "0", "hours": 2}),
                    Command.create({"metric": "next_reply", "priority": "0", "hours": 4}),
                    Command.create({"metric": "resolution", "priority": "0", "hours": 8}),
                    Command.create({"metric": "first_reply", "priority": "2", "hours": 1}),
                    Command.create({"metric": "next_reply", "priority": "2", "hours": 2}),
                    Command.create({"metric": "resolution", "priority": "2", "hours": 4}),
                ],
            }
        )
        cls.stage_progress = cls.env.ref("support_desk.stage_in_progress")
        cls.Line = cls.env["support.ticket.sla"]

    # ------------------------------------------------------------------
    # A small script language: (moment UTC, action, argument)
    # ------------------------------------------------------------------

    def run_steps(self, steps, team=None):
        ticket = None
        for moment, action, argument in steps:
            with freeze_time(at(moment)):
                if action == "create":
                    ticket = self.env["support.ticket"].create(
                        {
                            "name": "Printer on fire",
                            "team_id": (team or self.team).id,
                            "partner_id": self.contact.id,
                            "user_id": self.agent.id,
                            **(argument or {}),
                        }
                    )
                elif action == "reply":
                    ticket.with_user(self.agent).message_post(
                        body="We are on it.", message_type="comment", subtype_xmlid="mail.mt_comment"
                    )
                elif action == "customer":
                    ticket.message_post(
                        body="Any news?",
                        author_id=self.contact.id,
                        message_type="email",
                        subtype_xmlid="mail.mt_comment",
                    )
                elif action == "wait":
                    ticket.stage_id = self.stage_waiting
                elif action == "resume":
                    ticket.stage_id = self.stage_progress
                elif action == "close":
                    ticket.action_close()
                elif action == "reopen":
                    ticket.action_reopen()
                elif action == "write":
                    ticket.write(argument)
                elif action == "check":
                    self.Line._cron_check(commit=False)
                else:
                    raise AssertionError(action)
                self.env.flush_all()
        return ticket

    def line(self, ticket, metric, cycle=None):
        lines = ticket.sla_line_ids.filtered(lambda line: line.metric == metric)
        if cycle:
            lines = lines.filtered(lambda line: line.cycle == cycle)
        self.assertEqual(len(lines), 1, f"one {metric} line")
        return lines


@tagged("post_install", "-at_install")
class TestSlaDeadlineTable(SlaClockCase):
    # (why, team, steps, {metric: (state, deadline or None, reached or None)})
    TABLE = [
        (
            "lunch break: 11:30 Paris + 2 h = 14:30 Paris; 8 h end Tuesday 13:30 Paris",
            "team",
            [("2026-01-12 10:30", "create", None)],
            {
                "first_reply": ("ongoing", "2026-01-12 13:30", None),
                "resolution": ("ongoing", "2026-01-13 12:30", None),
            },
        ),
        (
            "created at night: from 09:00 Paris; the 8 h skip the Wednesday holiday",
            "team",
            [("2026-01-13 02:00", "create", None)],
            {
                "first_reply": ("ongoing", "2026-01-13 10:00", None),
                "resolution": ("ongoing", "2026-01-15 09:00", None),
            },
        ),
        (
            "created on a Saturday: Monday 09:00 Paris + 2 h",
            "team",
            [("2026-01-17 10:00", "create", None)],
            {"first_reply": ("ongoing", "2026-01-19 10:00", None)},
        ),
        (
            "created on the public holiday: Thursday 09:00 Paris + 2 h",
            "team",
            [("2026-01-14 10:00", "create", None)],
            {"first_reply": ("ongoing", "2026-01-15 10:00", None)},
        ),
        (
            "March daylight saving: Friday 16:00 CET + 1 h, Monday 09:00 CEST (07:00 UTC) + 1 h",
            "team",
            [("2026-03-27 15:00", "create", None)],
            {"first_reply": ("ongoing", "2026-03-30 08:00", None)},
        ),
        (
            "October daylight saving: Friday 16:00 CEST + 1 h, Monday 09:00 CET (08:00 UTC) + 1 h",
            "team",
            [("2026-10-23 14:00", "create", None)],
            {"first_reply": ("ongoing", "2026-10-26 09:00", None)},
        ),
        (
            "a New York team for a Tokyo user: 07:00 EST waits for 09:00 EST (14:00 UTC) + 2 h",
            "team_ny",
            [("2026-01-12 12:00", "create", None)],
            {"first_reply": ("ongoing", "2026-01-12 16:00", None)},
        ),
        (
            "24/7 team: Saturday 22:00 + 2 h and + 8 h in plain hours",
            "team_always",
            [("2026-01-17 22:00", "create", None)],
            {
                "first_reply": ("ongoing", "2026-01-18 00:00", None),
                "resolution": ("ongoing", "2026-01-18 06:00", None),
            },
        ),
        (
            "pause over a weekend: 2 h used Friday, waiting until Monday 15:00 Paris, 6 h left: Tuesday 14:00",
            "team",
            [
                ("2026-01-16 08:00", "create", None),
                ("2026-01-16 09:00", "reply", None),
                ("2026-01-16 10:00", "wait", None),
                ("2026-01-19 14:00", "customer", None),
            ],
            {
                "first_reply": ("achieved", None, "2026-01-16 09:00"),
                "next_reply": ("ongoing", "2026-01-20 10:00", None),
                "resolution": ("ongoing", "2026-01-20 13:00", None),
            },
        ),
        (
            "priority raised after 30 min: first reply 1 h (30 min left), resolution 4 h (3 h 30 left)",
            "team",
            [("2026-01-12 08:00", "create", None), ("2026-01-12 08:30", "write", {"priority": "2"})],
            {
                "first_reply": ("ongoing", "2026-01-12 09:00", None),
                "resolution": ("ongoing", "2026-01-12 13:00", None),
            },
        ),
        (
            "straight from waiting to solved: the paused day stays out, the resolution is met",
            "team",
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 09:00", "wait", None),
                ("2026-01-13 15:00", "close", None),
            ],
            {
                "first_reply": ("achieved", None, "2026-01-13 15:00"),
                "resolution": ("achieved", None, "2026-01-13 15:00"),
            },
        ),
        (
            "a breach stays failed after the reply comes",
            "team",
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 10:30", "check", None),
                ("2026-01-12 11:00", "reply", None),
            ],
            {
                "first_reply": ("failed", None, "2026-01-12 11:00"),
                "resolution": ("ongoing", "2026-01-13 09:00", None),
            },
        ),
    ]

    def test_deadline_table(self):
        for why, team_name, steps, expected in self.TABLE:
            with self.subTest(why):
                ticket = self.run_steps(steps, getattr(self, team_name))
                self.assertEqual(set(ticket.sla_line_ids.mapped("metric")), set(expected) | {"resolution"})
                for metric, (state, deadline, reached) in expected.items():
                    line = self.line(ticket, metric)
                    self.assertEqual(line.state, state, f"{metric} state")
                    if deadline:
                        self.assertEqual(line.deadline, at(deadline), f"{metric} deadline")
                    if reached:
                        self.assertEqual(line.date_reached, at(reached), f"{metric} reached")

    def test_pause_keeps_working_time(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 09:00", "wait", None),
                ("2026-01-13 15:00", "close", None),
            ]
        )
        resolution = self.line(ticket, "resolution")
        self.assertEqual(resolution.worked_seconds, hours(1), "a day and a half waiting, one working hour counted")
        self.assertFalse(ticket.sla_breached)
        self.assertEqual(ticket.sla_status, "achieved")

    def test_paused_line_has_no_deadline_and_resumes_with_the_time_left(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 10:00", "wait", None),
            ]
        )
        resolution = self.line(ticket, "resolution")
        self.assertEqual((resolution.state, resolution.deadline), ("paused", False))
        self.assertEqual(ticket.sla_status, "paused")
        with freeze_time(at("2026-01-12 14:00")):
            ticket.stage_id = self.stage_progress
        # 2 h used; 6 h from 15:00 Paris: 2 h Monday, Tuesday 9-12 and 13-14 -> 13:00 UTC
        self.assertEqual(resolution.deadline, at("2026-01-13 13:00"))
        self.assertEqual(resolution.state, "ongoing")

    def test_reopened_ticket_starts_a_new_cycle(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 08:30", "reply", None),
                ("2026-01-12 10:00", "close", None),
                ("2026-01-13 15:00", "reopen", None),
            ]
        )
        first = self.line(ticket, "resolution", cycle=1)
        self.assertEqual((first.state, first.worked_seconds), ("achieved", hours(2)), "the first cycle is kept")
        second = self.line(ticket, "resolution", cycle=2)
        # 8 h from Tuesday 16:00 Paris: 1 h, the Wednesday holiday, 7 h Thursday -> 17:00 Paris
        self.assertEqual((second.state, second.deadline), ("ongoing", at("2026-01-15 16:00")))
        self.assertEqual(self.line(ticket, "first_reply").state, "achieved", "no second first reply")
        self.assertEqual(ticket.reopen_count, 1)
        self.assertEqual(ticket.sla_status, "on_track")

    def test_reply_by_an_agent_only(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 08:10", "customer", None),
            ]
        )
        with freeze_time(at("2026-01-12 08:20")):
            ticket.with_user(self.agent).message_post(body="internal", subtype_xmlid="mail.mt_note")
        self.assertEqual(self.line(ticket, "first_reply").state, "ongoing", "a note is no reply, nor is the customer")
        self.assertFalse(ticket.date_first_reply)
        self.assertNotIn("next_reply", ticket.sla_line_ids.mapped("metric"), "awaiting the first reply already")

    def test_next_reply_cycle(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 08:30", "reply", None),
                ("2026-01-12 09:00", "customer", None),
                ("2026-01-12 09:10", "customer", None),
                ("2026-01-12 10:00", "reply", None),
                ("2026-01-12 11:00", "customer", None),
            ]
        )
        lines = ticket.sla_line_ids.filtered(lambda line: line.metric == "next_reply").sorted("id")
        self.assertEqual(len(lines), 2, "a second customer message while one awaits an answer opens no clock")
        self.assertEqual((lines[0].state, lines[0].date_reached), ("achieved", at("2026-01-12 10:00")))
        self.assertEqual(lines[0].worked_seconds, hours(1))
        # 12:00 Paris: lunch, then 4 h from 13:00 -> 17:00 Paris
        self.assertEqual((lines[1].state, lines[1].deadline), ("ongoing", at("2026-01-12 16:00")))

    def test_customer_reply_brings_a_waiting_ticket_back(self):
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 08:30", "reply", None),
                ("2026-01-12 09:00", "wait", None),
                ("2026-01-12 13:00", "customer", None),
            ]
        )
        self.assertFalse(ticket.is_waiting)
        self.assertEqual(self.line(ticket, "resolution").state, "ongoing")

    def test_team_change_keeps_elapsed_time(self):
        ticket = self.run_steps(
            [("2026-01-12 07:00", "create", None), ("2026-01-12 10:00", "write", {"team_id": self.team_always.id})]
        )
        resolution = self.line(ticket, "resolution")
        self.assertEqual(resolution.worked_seconds, hours(2), "two Paris working hours kept (from 09:00 Paris)")
        self.assertEqual(resolution.deadline, at("2026-01-12 16:00"), "then six plain hours")

    def test_policy_dropped_and_added(self):
        other_type = self.env["support.ticket.type"].create({"name": "Feedback"})
        self.policy.ticket_type_ids = self.env.ref("support_desk.ticket_type_incident")
        ticket = self.run_steps(
            [("2026-01-12 08:00", "create", {"ticket_type_id": other_type.id})],
        )
        self.assertFalse(ticket.sla_line_ids, "no policy for feedback")
        self.assertEqual(ticket.sla_status, "none")
        with freeze_time(at("2026-01-12 09:00")):
            ticket.ticket_type_id = self.env.ref("support_desk.ticket_type_incident")
        self.assertEqual(ticket.sla_policy_id, self.policy)
        first = self.line(ticket, "first_reply")
        self.assertEqual(first.worked_seconds, hours(1), "the clock counts from the ticket's creation")
        self.assertEqual(first.deadline, at("2026-01-12 10:00"))
        with freeze_time(at("2026-01-12 09:30")):
            ticket.ticket_type_id = other_type
        self.assertFalse(ticket.sla_line_ids, "running clocks of a policy that no longer applies are dropped")

    def test_holiday_added_moves_deadlines(self):
        ticket = self.run_steps([("2026-01-16 08:00", "create", None)])
        resolution = self.line(ticket, "resolution")
        self.assertEqual(resolution.deadline, at("2026-01-19 09:00"), "Friday 7 h, Monday 1 h")
        with freeze_time(at("2026-01-16 09:00")):
            self.env["resource.calendar.leaves"].create(
                {
                    "name": "Closed Monday",
                    "calendar_id": self.paris.id,
                    "date_from": at("2026-01-18 23:00"),
                    "date_to": at("2026-01-19 22:59"),
                }
            )
        self.assertEqual(resolution.deadline, at("2026-01-20 09:00"), "the closure pushes it to Tuesday")

    def test_calendar_without_hours_counts_around_the_clock(self):
        ticket = self.run_steps([("2026-01-17 22:00", "create", None)])
        with freeze_time(at("2026-01-17 22:00")):
            # the calendar loses its hours after the fact: the engine falls back to 24/7, never crashes
            self.paris.attendance_ids = [Command.clear()]
        self.assertEqual(self.line(ticket, "first_reply").deadline, at("2026-01-18 00:00"))


@tagged("post_install", "-at_install")
class TestSlaCheck(SlaClockCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.notified = cls.agent_other
        cls.policy.write(
            {
                "escalate_raise_priority": True,
                "escalate_to_leader": True,
                "escalate_notify_user_ids": [Command.set(cls.notified.ids)],
            }
        )

    def test_warning_before_breach(self):
        # 80 % of 2 h: 1 h 36 after 09:00 Paris -> 09:36 UTC
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        first = self.line(ticket, "first_reply")
        self.assertEqual(first.date_warning, at("2026-01-12 09:36"))
        self.run_steps_on(ticket, [("2026-01-12 09:30", "check", None)])
        self.assertFalse(first.warned, "not yet")
        self.run_steps_on(ticket, [("2026-01-12 09:40", "check", None)])
        self.assertTrue(first.warned)
        self.assertEqual(ticket.sla_status, "at_risk")
        activity = ticket.activity_ids.filtered(
            lambda act: act.activity_type_id == self.env.ref("support_desk.mail_activity_type_sla_warning")
        )
        self.assertEqual(activity.user_id, self.agent, "the assignee is warned")
        self.assertIn("SLA at risk", ticket.message_ids[0].body)
        self.run_steps_on(ticket, [("2026-01-12 09:45", "check", None)])
        self.assertEqual(len(ticket.activity_ids), 1, "warned once")

    def test_warning_by_minutes_left(self):
        self.env["ir.config_parameter"].set_param("support_desk.sla_warning_minutes", 60)
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        self.assertEqual(self.line(ticket, "first_reply").date_warning, at("2026-01-12 09:00"), "an hour left")

    def test_breach_escalates_once(self):
        sent_by_the_job = []
        Mail = type(self.env["mail.mail"])
        send_after_commit = Mail.send_after_commit

        def record(mails):
            sent_by_the_job.extend(mails.ids)
            return send_after_commit(mails)

        # the leader is told of the assignment by email (Odoo's notice: tracking on, as in production)
        self.env = self.env(context=dict(self.env.context, tracking_disable=False))
        self.Line = self.Line.with_env(self.env)
        self.manager.write({"notification_type": "email", "email": "leader@example.com"})
        # the job leaves its mail to Odoo's queue: sent after its own commit, it raced the queue's cron
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        with patch.object(Mail, "send_after_commit", record):
            self.run_steps_on(ticket, [("2026-01-12 10:01", "check", None)])
        first = self.line(ticket, "first_reply")
        self.assertEqual((first.state, first.date_failed), ("failed", at("2026-01-12 10:00")))
        self.assertTrue(first.escalated)
        self.assertTrue(ticket.sla_breached)
        self.assertEqual(ticket.sla_status, "failed")
        self.assertEqual(ticket.priority, "1", "priority raised one step")
        self.assertEqual(ticket.user_id, self.manager, "reassigned to the team leader")
        note = ticket.message_ids.filtered(lambda message: "SLA breached" in (message.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn(self.notified.partner_id, note.partner_ids)
        self.assertIn(self.manager.name, note.body)
        self.assertEqual(self.notified.notification_type, "email")
        mails = self.env["mail.mail"].search([("mail_message_id", "=", note.id)])
        self.assertEqual(len(mails), 1, "the notified agent's email is made")
        self.assertFalse(set(mails.ids) & set(sent_by_the_job), "and left to the mail queue")
        # so is every mail the job makes: the leader's "you have been assigned" as well (Odoo's
        # assignment notice, which the soak saw race the queue's cron in the same way)
        assigned = self.env["mail.mail"].search(
            [
                ("model", "=", "support.ticket"),
                ("res_id", "=", ticket.id),
                ("recipient_ids", "in", self.manager.partner_id.ids),
            ]
        )
        self.assertTrue(assigned, "the leader is told by email of the assignment")
        self.assertEqual(sent_by_the_job, [], "the job sends no mail itself")
        self.run_steps_on(ticket, [("2026-01-12 10:30", "check", None)])
        self.assertEqual(ticket.priority, "1", "no second escalation for the same breach")
        self.assertEqual(len(ticket.message_ids.filtered(lambda m: "SLA breached" in (m.body or ""))), 1)
        self.assertEqual(
            self.Line.search_count([("ticket_id", "=", ticket.id), ("state", "=", "failed")]), 1, "searchable"
        )
        self.assertIn(ticket, self.env["support.ticket"].search([("sla_breached", "=", True)]))

    def _messages(self, ticket, text):
        return ticket.message_ids.filtered(lambda message: text in (message.body or ""))

    def test_the_job_claims_a_batch_a_call_and_resumes(self):
        """The job as ir.cron calls it, its budget spent: one batch a call, breaches first, then
        warnings, what is left said each time, and every line handled once."""
        self.env["ir.config_parameter"].set_param("support_desk.sla_check_batch_size", 2)
        # 24/7: first reply due 2 h after the ticket was opened, warned from 1 h 36
        opened = [("2026-01-12 08:00", "breach")] * 3 + [("2026-01-12 08:20", "warning")] * 2
        tickets = {}
        for moment, kind in opened:
            ticket = self.run_steps([(moment, "create", None)], team=self.team_always)
            tickets[ticket] = kind
        first = {ticket: self.line(ticket, "first_reply") for ticket in tickets}
        with freeze_time(at("2026-01-12 10:01")):
            calls = call_cron_to_end(self, "support_desk.ir_cron_sla_check")
            # (a) each call resumes where the last one stopped, (b) down to nothing left
            self.assertEqual(calls, [(2, 3), (2, 1), (1, 0)])
            self.assertEqual(call_cron(self, "support_desk.ir_cron_sla_check"), (0, 0))
        self.env.invalidate_all()
        # (c) each line handled once: one breach note and escalation, or one warning
        for ticket, kind in tickets.items():
            line = first[ticket]
            warnings = ticket.activity_ids.filtered(
                lambda act: act.activity_type_id == self.env.ref("support_desk.mail_activity_type_sla_warning")
            )
            if kind == "breach":
                self.assertEqual((line.state, line.escalated, line.warned), ("failed", True, False))
                self.assertEqual(len(self._messages(ticket, "SLA breached")), 1)
                self.assertEqual(ticket.priority, "1", "raised once")
                self.assertFalse(warnings)
            else:
                self.assertEqual((line.state, line.escalated, line.warned), ("ongoing", False, True))
                self.assertEqual(len(self._messages(ticket, "SLA at risk")), 1)
                self.assertEqual(len(warnings), 1)
                self.assertFalse(self._messages(ticket, "SLA breached"))

    def _target(self, metric, priority):
        return self.policy.target_ids.filtered(lambda target: (target.metric, target.priority) == (metric, priority))

    def _breach_and_warning_in_one_batch(self):
        """A 24/7 ticket at 10:01: its first reply late (due 10:00), its resolution at risk (from
        10:00, due 10:30); the escalation raises the priority to medium. One call: ``(done, left)``."""
        self.policy.escalate_to_leader = False
        self._target("resolution", "0").hours = 2.5
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)], team=self.team_always)
        first, resolution = self.line(ticket, "first_reply"), self.line(ticket, "resolution")
        self.assertEqual(
            (resolution.date_warning, resolution.deadline), (at("2026-01-12 10:00"), at("2026-01-12 10:30"))
        )
        with freeze_time(at("2026-01-12 10:01")):
            progress = call_cron(self, "support_desk.ir_cron_sla_check")
        self.env.invalidate_all()
        return ticket, first, resolution, progress

    def test_a_warning_its_tickets_breach_makes_late_is_breached_in_the_same_batch(self):
        """A batch may hold a ticket's breach and its other line's warning: the escalation's shorter
        target leaves that line past its deadline: it is breached, not warned (as the breaches of a
        call always come before its warnings)."""
        self._target("first_reply", "2").priority = "1"
        self._target("resolution", "2").write({"priority": "1", "hours": 1})
        ticket, first, resolution, progress = self._breach_and_warning_in_one_batch()
        self.assertEqual(progress, (2, 0), "one batch: both lines, nothing left")
        self.assertEqual((first.state, first.escalated), ("failed", True))
        self.assertEqual((resolution.state, resolution.escalated, resolution.warned), ("failed", True, False))
        self.assertEqual(resolution.target_hours, 1)
        self.assertEqual(len(self._messages(ticket, "SLA breached")), 2, "one note per line")
        self.assertFalse(self._messages(ticket, "SLA at risk"))
        self.assertEqual(ticket.priority, "2", "one step per breached line")

    def test_a_warning_its_tickets_breach_drops_is_left_alone(self):
        """The medium priority has no resolution target: the line at risk is removed by the breach of
        the same batch, and nobody is warned about it."""
        ticket, first, resolution, progress = self._breach_and_warning_in_one_batch()
        self.assertEqual(progress, (2, 0))
        self.assertEqual((first.state, ticket.priority), ("failed", "1"))
        self.assertFalse(resolution.exists())
        self.assertEqual(len(self._messages(ticket, "SLA breached")), 1)
        self.assertFalse(self._messages(ticket, "SLA at risk"))

    def test_escalated_priority_refits_running_clocks(self):
        self.policy.target_ids.filtered(lambda target: target.priority == "2").priority = "1"
        ticket = self.run_steps([("2026-01-12 08:00", "create", None), ("2026-01-12 10:01", "check", None)])
        resolution = self.line(ticket, "resolution")
        # medium now: 4 h of resolution, 2 h 01 used -> 1 h 59 from 11:01 Paris: 59 min, lunch, 1 h
        self.assertEqual(resolution.target_hours, 4)
        self.assertEqual(resolution.deadline, at("2026-01-12 13:00"))

    def test_failed_clock_keeps_counting_and_pauses(self):
        self.policy.escalate_raise_priority = False
        ticket = self.run_steps(
            [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 08:30", "reply", None),
                ("2026-01-13 09:30", "check", None),
                ("2026-01-13 10:00", "wait", None),
                ("2026-01-15 10:00", "close", None),
            ]
        )
        resolution = self.line(ticket, "resolution")
        self.assertEqual((resolution.state, resolution.date_failed), ("failed", at("2026-01-13 09:00")))
        # Monday 7 h and Tuesday 09:00-11:00 Paris; the wait until Thursday is not counted
        self.assertEqual(resolution.worked_seconds, hours(9))
        self.assertEqual(resolution.date_reached, at("2026-01-15 10:00"))

    def test_check_ignores_paused_and_closed(self):
        paused = self.run_steps([("2026-01-12 08:00", "create", None), ("2026-01-12 08:30", "wait", None)])
        closed = self.run_steps([("2026-01-12 08:00", "create", None), ("2026-01-12 08:30", "close", None)])
        self.run_steps_on(paused, [("2026-01-20 08:00", "check", None)])
        self.assertFalse(paused.sla_breached)
        self.assertFalse(closed.sla_breached)

    def test_check_query_count_is_bounded(self):
        tickets = self.env["support.ticket"]
        for _i in range(3):
            tickets |= self.run_steps([("2026-01-12 08:00", "create", None)])
        self.Line._check_batch_size()  # a system parameter, read once and cached
        self.env.invalidate_all()
        with freeze_time(at("2026-01-12 08:30")):
            with self.assertQueryCount(2):  # the two searches, nothing due
                self.Line._cron_check(commit=False)

    def test_breaches_are_handled_in_batch(self):
        """The check's queries do not grow with the number of breached tickets."""
        self.policy.escalate_notify_user_ids = False  # notifying posts one message per ticket, by design

        made = self.env["support.ticket"]

        def queries_for(count, day):
            nonlocal made
            for _i in range(count):
                made |= self.run_steps([(f"2026-01-{day} 08:00", "create", None)])
            self.env.flush_all()
            self.env.invalidate_all()
            with freeze_time(at(f"2026-01-{day} 10:01")):
                before = self.env.cr.sql_log_count
                self.Line._cron_check(commit=False)
                self.env.flush_all()
                return self.env.cr.sql_log_count - before

        few = queries_for(2, 12)
        many = queries_for(8, 19)
        self.assertLessEqual(many, few, "no more queries for 8 breached tickets than for 2")
        breached = self.env["support.ticket"].search([("sla_breached", "=", True), ("id", "in", made.ids)])
        self.assertEqual(breached, made)
        self.assertEqual(set(breached.mapped("priority")), {"1"})

    def run_steps_on(self, ticket, steps):
        for moment, action, _argument in steps:
            with freeze_time(at(moment)):
                assert action == "check"
                self.Line._cron_check(commit=False)
                self.env.flush_all()
        return ticket


@tagged("post_install", "-at_install")
class TestSlaUpgrade(SlaClockCase):
    """The 1.2 upgrade gives the tickets already open their clocks, and wakes nobody."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.write(
            {
                "escalate_raise_priority": True,
                "escalate_to_leader": True,
                "escalate_notify_user_ids": [Command.set(cls.agent_other.ids)],
            }
        )

    def _ticket_of_before(self, created):
        """A ticket as 1.1 left it: opened at ``created``, without clocks nor cycle start."""
        self.policy.active = False
        ticket = self.run_steps([(created, "create", None)])
        self.policy.active = True
        self.assertFalse(ticket.sla_line_ids)
        self.env.cr.execute(
            "UPDATE support_ticket SET create_date = %s, date_cycle_start = NULL WHERE id = %s",
            (at(created), ticket.id),
        )
        self.env.invalidate_all()
        return ticket

    def _activity(self, ticket):
        """What the ticket's followers and escalation users could see: its messages and mails."""
        mails = self.env["mail.mail"].search([("model", "=", "support.ticket"), ("res_id", "=", ticket.id)])
        return ticket.message_ids, mails

    def test_breaches_before_the_upgrade_fail_without_escalating(self):
        old = self._ticket_of_before("2026-01-05 08:00")  # both targets missed a week before the upgrade
        recent = self._ticket_of_before("2026-01-12 07:30")  # first reply due at 10:00, after the upgrade
        before = self._activity(old)
        with freeze_time(at("2026-01-12 08:00")):
            run_migration(self.env, "19.0.1.2.0", "19.0.1.1.0")
        for moment in ("2026-01-12 08:05", "2026-01-12 10:01"):
            with freeze_time(at(moment)):
                self.Line._cron_check(commit=False)
                self.env.flush_all()
        self.assertEqual(old.priority, "0", "no priority raised")
        self.assertEqual(old.user_id, self.agent, "nobody reassigned")
        self.assertEqual(self._activity(old), before, "no note, no mail")
        # the breaches are on record, as handled
        first, resolution = self.line(old, "first_reply"), self.line(old, "resolution")
        self.assertEqual(old.sla_line_ids.sla_id, self.policy, "the active policy, not an archived one")
        self.assertEqual((first.state, first.date_failed), ("failed", at("2026-01-05 10:00")))
        self.assertEqual((resolution.state, resolution.date_failed), ("failed", at("2026-01-06 09:00")))
        self.assertTrue(first.escalated and resolution.escalated)
        self.assertEqual((old.date_cycle_start, old.sla_status), (at("2026-01-05 08:00"), "failed"))
        # a deadline after the upgrade escalates as any other
        first = self.line(recent, "first_reply")
        self.assertEqual((first.state, first.date_failed), ("failed", at("2026-01-12 10:00")))
        self.assertEqual((recent.priority, recent.user_id), ("1", self.manager))
        note = recent.message_ids.filtered(lambda message: "SLA breached" in (message.body or ""))
        self.assertIn(self.agent_other.partner_id, note.partner_ids)


@tagged("post_install", "-at_install")
class TestSlaReports(SlaClockCase):
    def test_achievement_breaches_and_percentiles(self):
        # first replies after 1 h, 2 h (met to the second) and 3 h (missed) of working time
        for reply_at in ("2026-01-12 09:00", "2026-01-12 10:00", "2026-01-12 11:00"):
            steps = [
                ("2026-01-12 08:00", "create", None),
                ("2026-01-12 10:30", "check", None),
                (reply_at, "reply", None),
            ]
            self.run_steps(sorted(steps))
        self.env.flush_all()
        Report = self.env["support.sla.report"]
        groups = Report._read_group(
            [("team_id", "=", self.team.id), ("metric", "=", "first_reply")],
            ["metric"],
            ["achievement:avg", "breach_count:sum", "__count"],
        )
        ((_metric, achievement, breaches, count),) = groups
        self.assertEqual(count, 3)
        self.assertEqual(breaches, 1)
        self.assertAlmostEqual(achievement, 200 / 3, places=2)
        running = Report._read_group(
            [("team_id", "=", self.team.id), ("metric", "=", "resolution")], [], ["achievement:avg"]
        )
        self.assertIs(running[0][0], False, "running clocks are left out of the achievement rate (not 0 %)")
        with freeze_time(at("2026-01-13 08:00")):
            team = self.team.with_context(no_cache=True)
            team.invalidate_recordset()
            self.assertAlmostEqual(team.first_reply_median, 2.0, places=3)
            self.assertAlmostEqual(team.first_reply_p90, 2.8, places=3, msg="1, 2, 3 h: 2 + 0.8 x (3 - 2)")
            self.assertAlmostEqual(team.sla_achievement, 200 / 3, places=2)
            self.assertEqual(team.sla_failed_count, 1)

    def test_backlog_by_age(self):
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        closed = self.run_steps([("2026-01-12 08:00", "create", None), ("2026-01-12 09:00", "close", None)])
        self.env.flush_all()
        rows = self.env["support.backlog.report"].search([("ticket_id", "in", (ticket | closed).ids)])
        self.assertEqual(rows.ticket_id, ticket, "closed tickets are not backlog")
        self.assertEqual(rows.age_bucket, "0_1", "created moments ago in the database's clock")


@tagged("post_install", "-at_install")
class TestSlaAccess(SlaClockCase):
    def test_status_lines_follow_the_ticket_rules(self):
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        lines = ticket.sla_line_ids
        self.assertEqual(len(lines), 2)
        Line = self.env["support.ticket.sla"]
        self.assertEqual(Line.with_user(self.agent).search([("ticket_id", "=", ticket.id)]), lines, "team member")
        self.assertEqual(Line.with_user(self.manager).search([("ticket_id", "=", ticket.id)]), lines, "manager")
        self.assertFalse(
            Line.with_user(self.agent_other).search([("ticket_id", "=", ticket.id)]), "an agent of another team"
        )
        with self.assertRaises(AccessError):
            Line.with_user(self.portal_user).search([("ticket_id", "=", ticket.id)])
        with self.assertRaises(AccessError):
            lines.with_user(self.agent).write({"state": "achieved"})
        with self.assertRaises(AccessError):
            self.env["support.sla.report"].with_user(self.agent).search([])
        self.assertEqual(
            self.env["support.sla.report"].with_user(self.manager).search_count([("ticket_id", "=", ticket.id)]), 2
        )

    def test_other_company_lines_are_hidden(self):
        ticket = self.run_steps([("2026-01-12 08:00", "create", None)])
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        self.manager.write({"company_ids": [Command.link(other.id)], "company_id": other.id})
        lines = self.env["support.ticket.sla"].with_user(self.manager).with_context(allowed_company_ids=other.ids)
        self.assertFalse(lines.search([("ticket_id", "=", ticket.id)]))
