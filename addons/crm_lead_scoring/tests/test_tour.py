from odoo.tests import HttpCase, new_test_user, tagged


class SalespersonTourMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, crm_lead_scoring_sync=True))
        cls.env["crm.lead.scoring.rule"].search([]).active = False
        cls.env["crm.lead.scoring.threshold"].search([]).active = False
        cls.env["crm.lead.scoring.model"].search([]).state = "retired"
        cls.salesman = new_test_user(cls.env, "tour_salesman", groups="sales_team.group_sale_salesman")
        Rule = cls.env["crm.lead.scoring.rule"]
        Rule.create({"name": "Big deal", "kind": "fit", "points": 50, "domain": "[('expected_revenue', '>=', 10000)]"})
        Rule.create({"name": "Asked for a demo", "kind": "fit", "points": 30, "domain": "[('name', 'ilike', 'hot')]"})
        Lead = cls.env["crm.lead"]
        cls.hot = Lead.create(
            {"name": "Tour Hot Lead", "type": "opportunity", "expected_revenue": 40000, "user_id": cls.salesman.id}
        )
        Lead.create(
            {"name": "Tour Warm Lead", "type": "opportunity", "expected_revenue": 20000, "user_id": cls.salesman.id}
        )
        Lead.create(
            {"name": "Tour Cold Lead", "type": "opportunity", "expected_revenue": 100, "user_id": cls.salesman.id}
        )

    def test_salesperson_day(self):
        self.assertEqual(self.hot.score, 80)
        self.start_tour("/odoo/crm", "crm_lead_scoring_salesperson_tour", login="tour_salesman")


@tagged("post_install", "-at_install")
class TestSalespersonTourDesktop(SalespersonTourMixin, HttpCase):
    pass


@tagged("post_install", "-at_install")
class TestSalespersonTourPhone(SalespersonTourMixin, HttpCase):
    browser_size = "375x667"
    touch_enabled = True
