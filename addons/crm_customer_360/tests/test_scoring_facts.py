from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_lead_scoring.engine import features

from ..models.crm_lead import ERP_COLUMNS
from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestScoringFacts(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.env["crm.lead.scoring.model"].search([]).state = "retired"

    def sale(self, partner, amount, days_ago, lead=None, company=None):
        """A confirmed order as history (no delivery needed for what scoring reads)."""
        company = company or self.company
        return (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "state": "sale",
                    "date_order": self.now - timedelta(days=days_ago),
                    "opportunity_id": lead.id if lead else False,
                    "order_line": [
                        Command.create({"product_id": self.service.id, "price_unit": amount, "tax_ids": False})
                    ],
                }
            )
        )

    def columns_of(self, leads):
        Lead = self.env["crm.lead"]
        self.env.flush_all()
        rows = Lead._scoring_rows(leads.ids, self.now)
        return {column.key: column.values for column in Lead._scoring_columns(rows, self.now)}

    def test_the_facts_of_a_known_company(self):
        lead = self.make_opportunity(self.ann, 1000.0, 20.0)
        self.sale(self.acme, 300.0, 400)  # more than a year ago: an order, no revenue of the year
        self.sale(self.ann, 200.0, 100)
        self.sale(self.acme, 50.0, 10)
        self.sale(self.ann, 999.0, 5, lead=lead)  # the lead's own order: the outcome, left out
        self.make_invoice(self.acme, 150.0, -10)  # due and unpaid: late and overdue
        on_time = self.make_invoice(self.acme, 60.0, -5)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=on_time.ids).create(
            {"payment_date": fields.Date.today() - timedelta(days=20)}
        )._create_payments()
        self.make_ticket(self.ann)
        stranger = self.env["crm.lead"].create({"name": "Unknown", "type": "opportunity", "email_from": "x@y.example"})
        columns = self.columns_of(lead | stranger)
        self.assertEqual(columns["erp_customer"], [True, False])
        self.assertEqual(columns["erp_orders"], [3, 0])
        self.assertAlmostEqual(columns["erp_revenue_12m"][0], 250.0)
        self.assertAlmostEqual(columns["erp_days_since_order"][0], 10.0, places=2)
        self.assertIsNone(columns["erp_days_since_order"][1])
        self.assertAlmostEqual(columns["erp_late_share"][0], 0.5)
        self.assertAlmostEqual(columns["erp_overdue"][0], 150.0)
        self.assertEqual(columns["erp_tickets_open"], [1, 0])
        self.assertIsNone(columns["erp_rating"][0])

    def test_a_closed_lead_is_measured_at_its_closing_date(self):
        lead = self.make_opportunity(self.acme, 1000.0, 20.0)
        lead.action_set_won()
        lead.date_closed = self.now - timedelta(days=30)
        self.sale(self.acme, 100.0, 60)
        self.sale(self.acme, 100.0, 3)  # after the lead closed: the model must not see it
        columns = self.columns_of(lead)
        self.assertEqual(columns["erp_orders"], [1])
        self.assertAlmostEqual(columns["erp_days_since_order"][0], 30.0, places=2)

    def test_the_quality_report_shows_what_the_erp_facts_add(self):
        """Won leads come from existing customers, lost ones from strangers: only the ERP facts tell them apart."""
        self.company.scoring_min_closed_leads = 40
        leads = self.env["crm.lead"]
        for index in range(48):
            customer = self.env["res.partner"].create({"name": f"Prospect {index}", "is_company": True})
            won = index % 2 == 0
            if won:
                for days in (300, 120, 40):
                    self.sale(customer, 500.0, days)
            lead = self.make_opportunity(customer, 1000.0, 50.0, email_from=f"buyer@prospect{index}.example")
            leads |= lead
        leads.filtered(lambda lead: lead.partner_id.sale_order_ids).action_set_won()
        lost_reason = self.env["crm.lost.reason"].create({"name": "Price"})
        leads.filtered(lambda lead: not lead.partner_id.sale_order_ids).action_set_lost(lost_reason_id=lost_reason.id)
        # the won ones were closed a moment before the lost ones: trees would tell them apart by
        # those milliseconds of age, where the point is what the ERP facts say
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_closed = %s, date_last_stage_update = %s WHERE id = ANY(%s)",
            [self.now, self.now, leads.ids],
        )
        self.env.invalidate_all()
        models = self.env["crm.lead.scoring.model"]._train_company(self.company)
        self.assertTrue(models)
        model = models[:1]
        self.assertLessEqual(set(ERP_COLUMNS), {spec["key"] for spec in model.payload["featurizer"]["specs"]})
        self.assertGreater(model.auc, 0.9)
        self.assertTrue(model.erp_facts_used)
        self.assertEqual(model.auc, model.auc_with_erp)
        self.assertLess(model.auc_without_erp, 0.75)
        self.assertIn("takes the AUC", model.report_html)

    def test_another_companys_documents_are_not_the_leads_facts(self):
        lead = self.make_opportunity(self.ann, 1000.0, 20.0)
        self.assertEqual(lead.company_id, self.company)
        self.sale(self.acme, 200.0, 100)
        company_b = self.setup_other_company(name="C360 Second Company")["company"]
        self.sale(self.acme, 5000.0, 50, company=company_b)
        self.make_invoice(self.acme, 900.0, -10, company=company_b)
        team_b = self.env["support.team"].create({"name": "Help B", "company_id": company_b.id})
        self.make_ticket(self.ann, team_id=team_b.id, company_id=company_b.id)
        columns = self.columns_of(lead)
        self.assertEqual(columns["erp_orders"], [1])
        self.assertAlmostEqual(columns["erp_revenue_12m"][0], 200.0)
        self.assertAlmostEqual(columns["erp_days_since_order"][0], 100.0, places=2)
        self.assertEqual(columns["erp_overdue"], [0.0])
        self.assertIsNone(columns["erp_late_share"][0])
        self.assertEqual(columns["erp_tickets_open"], [0])

    def test_the_amounts_of_the_explanation_are_for_the_accounting_only(self):
        lead = self.make_opportunity(self.ann, 1000.0, 20.0, user_id=self.salesman.id)
        self.sale(self.acme, 250.0, 100)
        self.make_invoice(self.acme, 150.0, -10)
        stranger = self.env["crm.lead"].create({"name": "Unknown", "type": "opportunity"})
        self.use_model(lead | stranger, {"erp_revenue_12m": 3.0, "erp_overdue": -3.0, "erp_orders": 2.0})
        lead._scoring_rescore(reason="manual")
        accountant = new_test_user(
            self.env,
            "c360_accountant",
            groups="sales_team.group_sale_salesman_all_leads,account.group_account_invoice",
            company_id=self.company.id,
        )

        def read(user):
            self.env.invalidate_all()
            record = lead.with_user(user)
            return str(record.score_explanation_html), record.score_tooltip

        html, tooltip = read(self.salesman)
        self.assertIn("Overdue amount", html)
        self.assertIn("Revenue of the last 12 months", html)
        self.assertIn("1 orders placed", html, "a fact without an amount keeps its value")
        for words in (html, tooltip):
            self.assertNotIn("150", words)
            self.assertNotIn("250", words)
        with self.assertRaises(AccessError):
            lead.with_user(self.salesman).read(["score_explanation"])
        html, _tooltip = read(accountant)
        self.assertIn("150 overdue", html)
        self.assertIn("250 bought in the last 12 months", html)

    def use_model(self, leads, weights):
        """A company model that weighs only the given ERP facts (learned from these leads' facts)."""
        self.company.scoring_min_closed_leads = 40
        self.env.flush_all()
        rows = self.env["crm.lead"]._scoring_rows(leads.ids, self.now)
        columns = [c for c in self.env["crm.lead"]._scoring_columns(rows, self.now) if c.key in weights]
        featurizer = features.Featurizer(min_count=1).fit(columns)
        encoded = featurizer.transform(columns)
        payload = {
            "featurizer": featurizer.to_dict(),
            "coef": [weights[spec["key"]] for spec in featurizer.specs],
            "intercept": 0.0,
            "means": encoded.mean(axis=0).tolist(),
            "won": 50,
            "lost": 50,
        }
        self.assertEqual(encoded.shape[1], len(weights), "one feature per fact, nothing missing")
        return self.env["crm.lead.scoring.model"].create(
            {"company_id": self.company.id, "won_count": 50, "lost_count": 50, "payload": payload}
        )
