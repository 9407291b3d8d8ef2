from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


class AgentTourMixin:
    """A 24/7 team (deadlines that do not depend on the hour the test runs) and two of its tickets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["support.sla"].search([]).active = False
        cls.agent = new_test_user(cls.env, "tour_agent", groups="support_desk.group_support_user")
        team = cls.env["support.team"].create(
            {"name": "Tour desk", "working_time": "always", "member_ids": [Command.set(cls.agent.ids)]}
        )
        cls.env["support.sla"].create(
            {
                "name": "Tour policy",
                "team_ids": [Command.set(team.ids)],
                "target_ids": [
                    Command.create({"metric": "first_reply", "priority": "0", "hours": 4}),
                    Command.create({"metric": "resolution", "priority": "0", "hours": 8}),
                ],
            }
        )
        customer = cls.env["res.partner"].create({"name": "Tour Customer", "email": "tour@customer.example"})
        now = fields.Datetime.now()
        Ticket = cls.env["support.ticket"]
        cls.at_risk = Ticket.create(
            {
                "name": "Tour: parcel lost",
                "team_id": team.id,
                "user_id": cls.agent.id,
                "partner_id": customer.id,
                # opened 3 h 30 ago: 87 % of the 4 h first-reply target is used
                "date_cycle_start": now - timedelta(hours=3, minutes=30),
            }
        )
        Ticket.create({"name": "Tour: invoice copy", "team_id": team.id, "user_id": cls.agent.id})
        cls.env["support.ticket.sla"]._cron_check(commit=False)

    def test_agent_day(self):
        self.assertEqual(self.at_risk.sla_status, "at_risk")
        self.assertEqual(self.at_risk.activity_ids.user_id, self.agent, "the agent was warned")
        self.start_tour(
            "/odoo/action-support_desk.action_support_ticket_my", "support_desk_agent_tour", login="tour_agent"
        )
        first_reply = self.at_risk.sla_line_ids.filtered(lambda line: line.metric == "first_reply")
        self.assertEqual(first_reply.state, "achieved")
        self.assertTrue(self.at_risk.is_closed)
        self.assertEqual(self.at_risk.sla_status, "achieved")
        self.assertFalse(self.at_risk.activity_ids, "the warning went away with the risk")


@tagged("post_install", "-at_install")
class TestAgentTourDesktop(AgentTourMixin, HttpCase):
    pass


@tagged("post_install", "-at_install")
class TestAgentTourPhone(AgentTourMixin, HttpCase):
    browser_size = "375x667"
    touch_enabled = True
