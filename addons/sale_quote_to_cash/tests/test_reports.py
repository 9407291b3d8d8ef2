from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashReports(Q2cCommon):
    """Figures of the board against values worked out by hand (the test company has no other history)."""

    def test_cycle_times_and_touchless_share(self):
        with freeze_time("2026-03-02 09:00:00"):
            order = self.quote([(self.service, 1)])
            order.action_quotation_sent()
        with freeze_time("2026-03-04 09:00:00"):
            self.accept(order)
            self.run_chain()  # services: delivered and invoiced at once
        with freeze_time("2026-03-07 21:00:00"):
            self.pay(order)
            order._q2c_enqueue()
            self.run_chain()
        touched = self.quote([(self.service, 1)], validity_date="2020-01-01")
        with freeze_time("2026-03-05 09:00:00"):
            self.accept(touched)
            self.run_chain()
            touched.validity_date = False
            touched.action_q2c_retry()
            self.run_chain()
            self.pay(touched)
            touched._q2c_enqueue()
            self.run_chain()
        self.assertEqual((order.q2c_state, touched.q2c_state), ("done", "done"))
        self.env.flush_all()
        row = self.env["sale.q2c.report"].search([("order_id", "=", order.id)])
        self.assertAlmostEqual(row.days_to_accept, 2.0)
        self.assertAlmostEqual(row.days_to_deliver, 0.0)
        self.assertAlmostEqual(row.days_to_invoice, 0.0)
        self.assertAlmostEqual(row.days_to_pay, 3.5)
        self.assertAlmostEqual(row.days_to_cash, 3.5)
        groups = self.env["sale.q2c.report"]._read_group(
            [("order_id", "in", (order | touched).ids)], aggregates=["touchless_rate:avg", "nbr:sum"]
        )
        self.assertEqual(groups, [(50.0, 2)], "one of the two finished orders needed a retry")

    def test_days_sales_outstanding(self):
        with freeze_time("2026-03-10 10:00:00"):
            order = self.quote([(self.service, 10)])
            self.pay(order, amount=round(order.amount_total * 0.4, 2))
            self.accept(order)
            self.run_chain()
            total = self.customer_invoices(order).amount_total
        self.env.flush_all()
        row = self.env["sale.q2c.dso.report"].search(
            [("company_id", "=", self.company.id), ("month", "=", date(2026, 3, 1))]
        )
        self.assertAlmostEqual(row.sales, total)
        self.assertAlmostEqual(row.receivable, total - round(total * 0.4, 2))
        # 60% of the month's sales still owed, March has 31 days.
        self.assertAlmostEqual(row.dso, (total - round(total * 0.4, 2)) / total * 31, places=2)
