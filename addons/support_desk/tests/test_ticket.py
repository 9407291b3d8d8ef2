from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import SupportCase


@tagged("post_install", "-at_install")
class TestTicketLife(SupportCase):
    def test_reference_company_and_first_stage(self):
        first, second = self._ticket(), self._ticket(name="Second")
        self.assertTrue(first.number.startswith("TCK/"))
        self.assertEqual(int(second.number[4:]), int(first.number[4:]) + 1)
        self.assertEqual(first.display_name, f"[{first.number}] Broken delivery")
        self.assertEqual(first.stage_id, self.stage_new)
        self.assertEqual(first.company_id, self.team.company_id)

    def test_close_and_reopen_keep_their_dates(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            ticket = self._ticket()
        with freeze_time(start + timedelta(hours=3)):
            ticket.action_close()
        self.assertTrue(ticket.is_closed)
        self.assertEqual(ticket.date_closed, start + timedelta(hours=3))
        with freeze_time(start + timedelta(hours=5)):
            ticket.action_reopen()
        self.assertFalse(ticket.is_closed)
        self.assertFalse(ticket.date_closed)
        self.assertEqual(ticket.reopen_count, 1)
        self.assertEqual(ticket.date_last_stage_update, start + timedelta(hours=5))

    def test_open_ticket_deleted_by_administrators_only(self):
        ticket = self._ticket()
        with self.assertRaises(UserError):
            ticket.with_user(self.agent).unlink()
        ticket.with_user(self.manager).unlink()
        self.assertFalse(ticket.exists())

    def test_team_in_working_hours_needs_a_calendar(self):
        with self.assertRaises(ValidationError):
            self.env["support.team"].create({"name": "No hours", "resource_calendar_id": False})
        team = self.env["support.team"].create(
            {"name": "Night", "working_time": "always", "resource_calendar_id": False}
        )
        self.assertEqual(team.working_time, "always")


@tagged("post_install", "-at_install")
class TestAssignment(SupportCase):
    def test_round_robin_takes_members_in_turn(self):
        self.team.assignment_method = "round_robin"
        tickets = self.env["support.ticket"].create([{"name": f"T{i}", "team_id": self.team.id} for i in range(4)])
        first, second = sorted((self.agent | self.agent_2).ids)
        self.assertEqual(tickets.mapped("user_id").ids, [first, second])
        self.assertEqual([t.user_id.id for t in tickets], [first, second, first, second])
        self.assertEqual(self._ticket().user_id.id, first, "the turn goes on from the last one")

    def test_least_loaded_member_gets_the_ticket(self):
        self.team.assignment_method = "least_loaded"
        self._ticket(user_id=self.agent.id)
        self._ticket(user_id=self.agent.id)
        self._ticket(user_id=self.agent.id).action_close()  # closed tickets are no load
        self._ticket(user_id=self.agent_2.id)
        self.assertEqual(self._ticket().user_id, self.agent_2, "1 open ticket against 2")
        self.assertEqual(self._ticket().user_id, self.agent, "2 against 2: the first member")
        self.assertEqual(self._ticket().user_id, self.agent_2, "2 against 3")

    def test_absent_members_are_skipped(self):
        self.team.assignment_method = "least_loaded"
        resource = self.env["resource.resource"].create(
            {"name": self.agent_2.name, "user_id": self.agent_2.id, "calendar_id": self.company.resource_calendar_id.id}
        )
        now = fields.Datetime.now()
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "resource_id": resource.id,
                "calendar_id": self.company.resource_calendar_id.id,
                "date_from": now - timedelta(days=1),
                "date_to": now + timedelta(days=1),
            }
        )
        self._ticket(user_id=self.agent.id)
        self.assertEqual(self._ticket().user_id, self.agent, "the less loaded colleague is on leave")

    def test_manual_team_leaves_tickets_unassigned(self):
        self.assertEqual(self.team.assignment_method, "manual")
        self.assertFalse(self._ticket().user_id)


@tagged("post_install", "-at_install")
class TestTicketAccess(SupportCase):
    def test_agent_sees_own_team_not_others(self):
        mine = self._ticket()
        theirs = self._ticket(team_id=self.other_team.id)
        Ticket = self.env["support.ticket"].with_user(self.agent)
        visible = Ticket.search([("id", "in", (mine | theirs).ids)])
        self.assertEqual(visible, mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.agent).read(["name"])
        theirs.user_id = self.agent  # assigned to them across teams: they see it
        self.assertEqual(Ticket.search([("id", "in", (mine | theirs).ids)]), mine | theirs)

    def test_manager_sees_every_team(self):
        tickets = self._ticket() | self._ticket(team_id=self.other_team.id)
        self.assertEqual(
            self.env["support.ticket"].with_user(self.manager).search([("id", "in", tickets.ids)]), tickets
        )

    def test_other_company_is_hidden(self):
        other_company = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        team = self.env["support.team"].create({"name": "Elsewhere", "company_id": other_company.id})
        ticket = self._ticket(team_id=team.id)
        self.assertEqual(ticket.company_id, other_company)
        self.manager.company_ids = [Command.link(other_company.id)]
        Ticket = self.env["support.ticket"].with_user(self.manager)
        only_main = Ticket.with_context(allowed_company_ids=[self.company.id])
        self.assertFalse(only_main.search([("id", "=", ticket.id)]), "a company not selected in the switcher")
        both = Ticket.with_context(allowed_company_ids=[self.company.id, other_company.id])
        self.assertEqual(both.search([("id", "=", ticket.id)]), ticket)
        self.assertFalse(
            self.env["support.ticket"].with_user(self.agent).search([("id", "=", ticket.id)]),
            "an agent of another company",
        )

    def test_agent_cannot_set_what_the_desk_records(self):
        """Read-only in the form is refused on the server: an agent over RPC cannot take another ticket's
        reference, choose the policy, stop the clocks or mark the ticket answered."""
        mine = self._ticket()
        other = self._ticket()
        policy = self.env["support.sla"].create({"name": "Lax", "company_id": self.company.id})
        forged = {
            "number": other.number,
            "sla_policy_id": policy.id,
            "date_first_reply": fields.Datetime.now(),
            "date_cycle_start": fields.Datetime.now(),
            "date_closed": fields.Datetime.now(),
            "reopen_count": 7,
        }
        for name, value in forged.items():
            with self.subTest(field=name):
                with self.assertRaises(AccessError):
                    mine.with_user(self.agent).write({name: value})
                with self.assertRaises(AccessError):
                    self.env["support.ticket"].with_user(self.agent).create(
                        {"name": "Forged", "team_id": self.team.id, name: value}
                    )
        self.assertNotEqual(mine.number, other.number)
        self.assertFalse(mine.date_first_reply)
        # what an agent does by hand still works, and writes those fields as the desk
        mine.with_user(self.agent).write({"priority": "2"})
        mine.with_user(self.agent).action_close()
        self.assertTrue(mine.date_closed)
        mine.with_user(self.agent).action_reopen()
        self.assertEqual(mine.reopen_count, 1)
        # an administrator may (an import from another tool brings its own dates)
        mine.with_user(self.manager).write({"date_cycle_start": fields.Datetime.now()})

    def test_portal_user_reads_their_company_tickets_only(self):
        ours = self._ticket(partner_id=self.customer.id)
        colleague = self._ticket(partner_id=self.contact.id)
        other = self._ticket(partner_id=self.stranger.id)
        Ticket = self.env["support.ticket"].with_user(self.portal_user)
        self.assertEqual(Ticket.search([("id", "in", (ours | colleague | other).ids)]), ours | colleague)
        with self.assertRaises(AccessError):
            other.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            ours.with_user(self.portal_user).write({"priority": "3"})
