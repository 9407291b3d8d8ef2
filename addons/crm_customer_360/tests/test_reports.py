from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestPipelineReport(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["crm.team"].create({"name": "Report Team"})
        Lead = cls.env["crm.lead"].with_context(default_team_id=cls.team.id)
        cls.leads = Lead.create([{"name": "Lead A", "type": "lead"}, {"name": "Lead B", "type": "lead"}])
        cls.won = cls.make_opportunity(cls.acme, 1000.0, 60.0, team_id=cls.team.id)
        cls.lost = cls.make_opportunity(cls.acme, 400.0, 30.0, team_id=cls.team.id)
        cls.open = cls.make_opportunity(cls.acme, 2000.0, 25.0, team_id=cls.team.id, date_deadline=fields.Date.today())
        cls.won.action_set_won()
        cls.price = cls.env["crm.lost.reason"].create({"name": "Too expensive"})
        cls.lost.action_set_lost(lost_reason_id=cls.price.id)
        # The won one took 10 days, the lost one 4.
        now = fields.Datetime.now()
        for lead, days in ((cls.won, 10), (cls.lost, 4)):
            cls.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s, date_closed = %s WHERE id = %s",
                [now - timedelta(days=days), now, lead.id],
            )
        cls.env.invalidate_all()

    def figures(self, groupby=(), domain=()):
        Report = self.env["crm.c360.pipeline.report"]
        return Report._read_group(
            [("team_id", "=", self.team.id), *domain],
            list(groupby),
            ["nbr:sum", "conversion_rate:avg", "win_rate:avg", "cycle_days:avg", "forecast:sum", "actual:sum"],
        )

    def test_conversion_win_rate_cycle_forecast_and_actual(self):
        [(count, conversion, win_rate, cycle, forecast, actual)] = self.figures()
        self.assertEqual(count, 5)
        self.assertAlmostEqual(conversion, 60.0)  # 3 opportunities of 5
        self.assertAlmostEqual(win_rate, 50.0)  # 1 won of 2 closed
        self.assertAlmostEqual(cycle, 7.0, places=3)  # (10 + 4) / 2
        self.assertAlmostEqual(forecast, 500.0)  # 2000 at 25 %
        self.assertAlmostEqual(actual, 1000.0)

    def test_losses_by_reason(self):
        rows = self.figures(["lost_reason_id", "won_status"], [("won_status", "in", ("won", "lost"))])
        self.assertEqual(
            {(reason.name, status, count) for reason, status, count, *_rest in rows},
            {("Too expensive", "lost", 1), (False, "won", 1)},
        )

    def test_a_salesperson_sees_only_own_opportunities(self):
        self.open.user_id = self.salesman
        (self.won | self.lost | self.leads).user_id = self.manager
        # (a new salesperson moves the opportunity to their own team: filter on the opportunities)
        everything = self.won | self.lost | self.open | self.leads
        seen = self.env["crm.c360.pipeline.report"].with_user(self.salesman).search([("lead_id", "in", everything.ids)])
        self.assertEqual(seen.lead_id, self.open)
