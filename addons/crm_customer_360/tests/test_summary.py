from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestCustomer360Summary(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme.write({"credit_limit": 1000.0, "use_partner_credit_limit": True})
        # Pipeline: 1000 at 50% and 2000 at 10% are open (700 weighted); the won one is not.
        cls.deal_a = cls.make_opportunity(cls.ann, 1000.0, 50.0)
        cls.deal_b = cls.make_opportunity(cls.acme, 2000.0, 10.0)
        cls.make_opportunity(cls.acme, 5000.0, 100.0).action_set_won()
        cls.make_opportunity(cls.other, 9000.0, 90.0)
        # One quotation of 200; two orders of 300 and 100, still to invoice (invoiced on order).
        cls.quotation = cls.make_order(cls.ann, 2, confirm=False)
        cls.order_big = cls.make_order(cls.ann, 3)
        cls.order_small = cls.make_order(cls.acme, 1)
        cls.make_order(cls.other, 7)
        cls.order_big.picking_ids.scheduled_date = fields.Datetime.now() - timedelta(days=2)
        # Open invoices 150 (overdue) and 250 (due later); a paid one and a draft do not count.
        cls.overdue = cls.make_invoice(cls.acme, 150.0, -5)
        cls.not_due = cls.make_invoice(cls.ann, 250.0, 20)
        paid = cls.make_invoice(cls.acme, 999.0, -5)
        cls.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {}
        )._create_payments()
        cls.make_invoice(cls.acme, 777.0, -5, post=False)
        # Tickets: two open (one whose SLA failed), one closed.
        cls.ticket_open = cls.make_ticket(cls.ann)
        cls.ticket_failed = cls.make_ticket(cls.acme)
        now = fields.Datetime.now()
        # sudo: SLA lines are the engine's own records; here one is written as the engine would.
        cls.env["support.ticket.sla"].sudo().create(
            {
                "ticket_id": cls.ticket_failed.id,
                "metric": "first_reply",
                "target_hours": 4.0,
                "date_start": now - timedelta(days=1),
                "date_checkpoint": now,
                "state": "failed",
                "date_failed": now,
            }
        )
        closed_stage = cls.env["support.stage"].search([("is_closed", "=", True)], limit=1)
        cls.make_ticket(cls.acme, stage_id=closed_stage.id)

    def test_figures_are_those_worked_out_by_hand(self):
        summary = self.summary(self.acme)
        self.assertEqual(summary["opportunities"], 2)
        self.assertAlmostEqual(summary["pipeline"], 700.0)
        self.assertEqual(summary["quotations"], 1)
        self.assertEqual(summary["orders"], 2)
        self.assertIn("400", summary["orders_amount_text"])
        self.assertEqual(summary["deliveries"], 2)
        self.assertEqual(summary["deliveries_late"], 1)
        self.assertTrue(summary["accounting"])
        self.assertAlmostEqual(summary["invoices_open"], 400.0)
        self.assertEqual(summary["invoices_open_count"], 2)
        self.assertAlmostEqual(summary["invoices_overdue"], 150.0)
        # Credit used: the open invoices and what the two orders still have to invoice.
        self.assertAlmostEqual(summary["credit_used"], 800.0)
        self.assertEqual(summary["credit_limit"], 1000.0)
        self.assertEqual(summary["credit_share"], 80)
        self.assertEqual(summary["tickets"], 2)
        self.assertEqual(summary["tickets_failed"], 1)

    def test_a_contact_an_opportunity_and_a_ticket_show_their_company(self):
        company_summary = self.summary(self.acme)
        for record in (self.ann, self.deal_a, self.ticket_open):
            summary = self.summary(record)
            self.assertEqual(summary["partner_id"], self.acme.id)
            self.assertEqual(summary["orders"], company_summary["orders"])
            self.assertEqual(summary["tickets"], company_summary["tickets"])
        self.assertFalse(self.summary(self.make_opportunity(self.env["res.partner"], 10.0, 10.0)))

    def test_the_ticket_lists_open_deliveries_late_first_with_their_status(self):
        deliveries = self.summary(self.ticket_open)["delivery_list"]
        self.assertEqual(
            [d["name"] for d in deliveries],
            (self.order_big | self.order_small).picking_ids.sorted(lambda p: p.scheduled_date).mapped("name"),
        )
        self.assertTrue(deliveries[0]["late"])
        self.assertEqual(deliveries[0]["origin"], self.order_big.name)
        self.assertFalse(deliveries[1]["late"])
        self.assertEqual(deliveries[0]["state_label"], "Ready")

    def test_a_salesperson_sees_no_accounting_figures_and_only_own_orders(self):
        summary = self.summary(self.acme.with_user(self.salesman))
        self.assertFalse(summary["accounting"])
        for key in ("invoices_open", "invoices_overdue", "credit_used", "credit_limit"):
            self.assertNotIn(key, summary)
        # The orders belong to another salesperson: the "own documents" rule hides them.
        self.assertEqual(summary["orders"], 0)
        self.order_small.user_id = self.salesman
        self.assertEqual(self.summary(self.acme.with_user(self.salesman))["orders"], 1)

    def test_each_figure_opens_its_list(self):
        expected = {
            "opportunities": self.deal_a | self.deal_b,
            "quotations": self.quotation,
            "orders": self.order_big | self.order_small,
            "deliveries": (self.order_big | self.order_small).picking_ids,
            "deliveries_late": self.order_big.picking_ids,
            "invoices": self.overdue | self.not_due,
            "invoices_overdue": self.overdue,
            "tickets": self.ticket_open | self.ticket_failed,
            "tickets_failed": self.ticket_failed,
        }
        for kind, records in expected.items():
            with self.subTest(kind=kind):
                action = self.ann.action_c360_open(kind)
                self.assertEqual(action["res_model"], records._name)
                self.assertEqual(self.env[records._name].search(action["domain"]), records)
        with self.assertRaises(UserError):
            self.acme.with_user(self.salesman).action_c360_open("invoices")

    def test_queries_do_not_grow_with_the_history(self):
        def count():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.acme.browse(self.acme.id).c360_summary  # noqa: B018
            return self.env.cr.sql_log_count - before

        count()  # warms the caches (groups, currencies, languages) a form opened before has warm too
        small = count()
        for _ in range(10):
            self.make_order(self.ann, 1)
            self.make_invoice(self.acme, 10.0, -1)
            self.make_ticket(self.ann)
            self.make_opportunity(self.acme, 100.0, 20.0)
        self.assertEqual(count(), small, "the same queries whatever the history")
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(small):
            self.acme.browse(self.acme.id).c360_summary  # noqa: B018
