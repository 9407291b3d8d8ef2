"""The demo and benchmark data generator makes a believable, deterministic company."""

import importlib.util
from datetime import datetime
from pathlib import Path

from odoo.tests import TransactionCase, tagged

_PATH = Path(__file__).resolve().parent.parent / "tools" / "datagen.py"
_SPEC = importlib.util.spec_from_file_location("crm_suite_datagen", _PATH)
datagen = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(datagen)


@tagged("post_install", "-at_install")
class TestDataGenerator(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_ids_before = set(cls.env["crm.lead"].with_context(active_test=False).search([]).ids)
        cls.counts = datagen.generate(cls.env, leads=120, seed=7)
        Lead = cls.env["crm.lead"].with_context(active_test=False)
        cls.leads = Lead.search([("id", "not in", list(cls.lead_ids_before))])

    def test_counts_and_outcomes(self):
        self.assertEqual(self.counts["crm.lead"], 120)
        self.assertEqual(len(self.leads), 120)
        statuses = set(self.leads.mapped("won_status"))
        self.assertEqual(statuses, {"won", "lost", "pending"})
        lost = self.leads.filtered(lambda lead: lead.won_status == "lost")
        self.assertTrue(all(lost.mapped("lost_reason_id")), "every lost lead says why")
        self.assertTrue(all(lost.mapped("date_closed")))
        oldest = min(self.leads.mapped("create_date"))
        self.assertLess(oldest, datetime.now().replace(year=datetime.now().year - 1), "the history spans two years")
        self.assertGreater(self.counts["mail.message"], 50)
        self.assertGreater(len(set(self.leads.mapped("country_id"))), 4)

    def test_customers_and_products(self):
        companies = self.env["res.partner"].search([("is_company", "=", True), ("website", "like", ".example")])
        self.assertGreaterEqual(len(companies), 20)
        self.assertTrue(companies.child_ids, "companies have people")
        products = self.env["product.product"].search([("name", "in", [p[0] for p in datagen.PRODUCTS])])
        self.assertEqual(set(products.mapped("type")), {"consu", "service"})
        storable = products.filtered("is_storable")
        self.assertTrue(storable)
        self.assertTrue(all(qty > 0 for qty in storable.mapped("qty_available")))

    def test_orders_deliveries_invoices_payments(self):
        orders = self.env["sale.order"].search([("opportunity_id", "in", self.leads.ids)])
        self.assertTrue(orders)
        self.assertTrue(all(o.opportunity_id.won_status == "won" for o in orders))
        self.assertTrue(orders.filtered(lambda o: o.state == "sale"))
        self.assertTrue(orders.filtered(lambda o: o.state in ("draft", "sent")), "some quotations stay open")
        self.assertTrue(orders.picking_ids.filtered(lambda p: p.state == "done"))
        invoices = orders.invoice_ids.filtered(lambda m: m.state == "posted")
        self.assertTrue(invoices)
        self.assertTrue(invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment")))
        overdue = invoices.filtered(
            lambda m: m.payment_state == "not_paid" and m.invoice_date_due < datetime.now().date()
        )
        self.assertTrue(overdue, "some invoices are unpaid and overdue")

    def test_history_is_learnable(self):
        """Outcomes follow the facts: referrals win more than cold calls."""
        closed = self.leads.filtered(lambda lead: lead.won_status in ("won", "lost"))
        plan = datagen.lead_plan(7, 2000, list(range(1, 50)), dict.fromkeys(range(1, 50), "fr"), {}, datetime.now())

        def rate(source):
            items = [p for p in plan if p["source"] == source and p["outcome"] != "open"]
            return sum(p["outcome"] == "won" for p in items) / len(items)

        self.assertGreater(rate(1), rate(3) + 0.15)
        self.assertTrue(closed)

    def test_plan_is_deterministic(self):
        now = datetime(2026, 1, 1)
        args = (list(range(1, 30)), dict.fromkeys(range(1, 30), "be"), {})
        first = datagen.lead_plan(7, 200, *args, now)
        self.assertEqual(first, datagen.lead_plan(7, 200, *args, now))
        self.assertNotEqual(first, datagen.lead_plan(8, 200, *args, now))

    def test_seeded_flag_and_scores(self):
        self.assertTrue(self.env["ir.config_parameter"].sudo().get_param("crm_suite.demo_seeded"))
        open_leads = self.leads.filtered(lambda lead: lead.won_status == "pending")
        self.assertTrue(all(open_leads.mapped("score_grade")), "the scores step scored every open lead")

    def test_support_tickets(self):
        self.assertEqual(self.counts["support.ticket"], 30, "at least 30 tickets, a tenth of the leads otherwise")
        tickets = self.env["support.ticket"].search([("partner_id.parent_id.website", "like", ".example")])
        self.assertEqual(len(tickets), 30)
        self.assertEqual(len(tickets.team_id), 4, "spread over the four teams")
        self.assertIn("always", tickets.team_id.mapped("working_time"))
        self.assertTrue(all(tickets.mapped("sla_line_ids")), "every ticket is under a policy")
        self.assertGreaterEqual(
            set(tickets.mapped("sla_status")), {"on_track", "failed", "achieved"}, "clocks running and settled"
        )
        self.assertTrue(tickets.filtered("is_closed"), "some solved, for the reports")
