from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SupportCase


@tagged("post_install", "-at_install")
class TestSlaPolicy(SupportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["support.sla"].search([]).active = False  # whatever the database holds
        cls.gold = cls.env["res.partner.category"].create({"name": "Gold"})
        cls.incident = cls.env.ref("support_desk.ticket_type_incident")
        cls.tag_outage = cls.env["support.tag"].create({"name": "SLA outage"})
        Sla = cls.env["support.sla"]
        cls.sla_gold = Sla.create(
            {
                "name": "Gold customers",
                "sequence": 1,
                "partner_category_ids": [Command.set(cls.gold.ids)],
                "target_ids": [
                    Command.create({"metric": "first_reply", "priority": "0", "hours": 4}),
                    Command.create({"metric": "first_reply", "priority": "3", "hours": 1}),
                ],
            }
        )
        cls.sla_incident = Sla.create(
            {"name": "Incidents", "sequence": 2, "ticket_type_ids": [Command.set(cls.incident.ids)]}
        )
        cls.sla_outage = Sla.create(
            {
                "name": "Outages",
                "sequence": 3,
                "tag_ids": [Command.set(cls.tag_outage.ids)],
                "team_ids": [Command.set(cls.team.ids)],
            }
        )
        cls.sla_urgent = Sla.create(
            {"name": "Urgent anywhere", "sequence": 4, "ticket_domain": "[('priority', '=', '3')]"}
        )
        cls.sla_default = Sla.create({"name": "Everyone else", "sequence": 9})

    def _policy(self, ticket):
        return self.env["support.sla"]._match(ticket).get(ticket)

    def test_first_matching_policy_wins(self):
        self.customer.category_id = self.gold
        gold_incident = self._ticket(partner_id=self.contact.id, ticket_type_id=self.incident.id)
        self.assertEqual(self._policy(gold_incident), self.sla_gold, "the tier policy comes first")
        self.assertEqual(self._policy(self._ticket(ticket_type_id=self.incident.id)), self.sla_incident)
        self.assertEqual(self._policy(self._ticket()), self.sla_default)

    def test_tags_and_team_must_both_hold(self):
        outage = self._ticket(tag_ids=[Command.set(self.tag_outage.ids)])
        self.assertEqual(self._policy(outage), self.sla_outage)
        elsewhere = self._ticket(team_id=self.other_team.id, tag_ids=[Command.set(self.tag_outage.ids)])
        self.assertEqual(self._policy(elsewhere), self.sla_default)

    def test_extra_filter(self):
        self.assertEqual(self._policy(self._ticket(priority="3")), self.sla_urgent)

    def test_match_is_set_based(self):
        few = self._ticket() | self._ticket(priority="3") | self._ticket(ticket_type_id=self.incident.id)
        many = self.env["support.ticket"].create(
            [{"name": f"T{i}", "team_id": self.team.id, "priority": str(i % 4)} for i in range(30)]
        )
        counts = []
        for tickets in (few, few | many):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            matched = self.env["support.sla"]._match(tickets)
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1], "as many queries for 33 tickets as for 3")
        self.assertEqual([matched[t] for t in few], [self.sla_default, self.sla_urgent, self.sla_incident])

    def test_no_policy_no_match(self):
        (self.sla_default | self.sla_urgent | self.sla_outage | self.sla_incident | self.sla_gold).active = False
        self.assertFalse(self._policy(self._ticket()))

    def test_target_per_priority(self):
        self.assertEqual(self.sla_gold._target_hours("first_reply", "3"), 1)
        self.assertEqual(self.sla_gold._target_hours("first_reply", "0"), 4)
        self.assertEqual(self.sla_gold._target_hours("resolution", "0"), 0, "no target: not measured")

    def test_invalid_filter_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["support.sla"].create({"name": "Broken", "ticket_domain": "[('no_such_field', '=', 1)]"})

    @mute_logger("odoo.sql_db")
    def test_one_target_per_metric_and_priority(self):
        with self.assertRaises(IntegrityError):
            self.sla_gold.target_ids = [Command.create({"metric": "first_reply", "priority": "3", "hours": 2})]
            self.env.flush_all()
