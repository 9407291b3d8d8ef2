from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from ..models.crm_lead import ERP_COLUMNS
from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestScoringFacts(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.env["crm.lead.scoring.model"].search([]).state = "retired"

    def sale(self, partner, amount, days_ago, lead=None):
        """A confirmed order as history (no delivery needed for what scoring reads)."""
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "state": "sale",
                "date_order": self.now - timedelta(days=days_ago),
                "opportunity_id": lead.id if lead else False,
                "order_line": [Command.create({"product_id": self.service.id, "price_unit": amount, "tax_ids": False})],
            }
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
        models = self.env["crm.lead.scoring.model"]._train_company(self.company)
        self.assertTrue(models)
        model = models[:1]
        self.assertLessEqual(set(ERP_COLUMNS), {spec["key"] for spec in model.payload["featurizer"]["specs"]})
        self.assertGreater(model.auc, 0.9)
        self.assertTrue(model.erp_facts_used)
        self.assertEqual(model.auc, model.auc_with_erp)
        self.assertLess(model.auc_without_erp, 0.75)
        self.assertIn("takes the AUC", model.report_html)
