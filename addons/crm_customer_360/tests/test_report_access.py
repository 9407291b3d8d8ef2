from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import Customer360Common

REPORTS = ("crm.c360.pipeline.report", "crm.c360.demand.report")


@tagged("post_install", "-at_install")
class TestReportAccess(Customer360Common):
    """Who reads which rows of each report: the rules of the opportunities, per role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "C360 Second Company"})
        cls.own = cls.salesman  # "own documents only"
        cls.all_docs = new_test_user(
            cls.env, "c360_all_docs", groups="sales_team.group_sale_salesman_all_leads", company_id=cls.company.id
        )
        cls.stock_user = new_test_user(
            cls.env, "c360_stock", groups="stock.group_stock_user", company_id=cls.company.id
        )
        cls.selling_stock_user = new_test_user(
            cls.env,
            "c360_selling_stock",
            groups="sales_team.group_sale_salesman,stock.group_stock_user",
            company_id=cls.company.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            "c360_user_b",
            groups="sales_team.group_sale_manager,stock.group_stock_manager",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.mine = cls.quoted_opportunity("Mine", cls.own, cls.company)
        cls.theirs = cls.quoted_opportunity("Theirs", cls.all_docs, cls.company)
        cls.in_b = cls.quoted_opportunity("Second company's", cls.user_b, cls.company_b)
        cls.leads = cls.mine | cls.theirs | cls.in_b

    @classmethod
    def quoted_opportunity(cls, name, user, company):
        lead = cls.make_opportunity(cls.acme, 1000.0, 50.0, name=name, user_id=user.id, company_id=company.id)
        cls.env["sale.order"].with_company(company).create(
            {
                "partner_id": cls.acme.id,
                "opportunity_id": lead.id,
                "company_id": company.id,
                "user_id": user.id,
                "order_line": [Command.create({"product_id": cls.widget.id, "product_uom_qty": 4})],
            }
        )
        return lead

    def seen(self, report, user):
        return self.env[report].with_user(user).search([("lead_id", "in", self.leads.ids)]).lead_id

    def test_a_salesperson_with_own_documents_reads_the_rows_of_their_opportunities(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self.assertEqual(self.seen(report, self.own), self.mine)

    def test_a_salesperson_with_all_documents_reads_every_row_of_their_company(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self.assertEqual(self.seen(report, self.all_docs), self.mine | self.theirs)

    def test_the_warehouse_reads_the_demand_and_not_the_pipeline(self):
        self.assertEqual(self.seen("crm.c360.demand.report", self.stock_user), self.mine | self.theirs)
        # who also sells plans the replenishment of every opportunity, not only their own
        self.assertEqual(self.seen("crm.c360.demand.report", self.selling_stock_user), self.mine | self.theirs)
        self.assertEqual(self.seen("crm.c360.pipeline.report", self.selling_stock_user), self.env["crm.lead"])
        with self.assertRaises(AccessError):
            self.env["crm.c360.pipeline.report"].with_user(self.stock_user).search([])

    def test_a_user_of_another_company_reads_nothing_of_the_first(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self.assertEqual(self.seen(report, self.user_b), self.in_b)
                groups = self.env[report].with_user(self.user_b)._read_group([], ["company_id"], ["__count"])
                self.assertIn(self.company_b, [company for company, _count in groups])
                self.assertNotIn(self.company, [company for company, _count in groups])
