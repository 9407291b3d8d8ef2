"""Every report of the suite, read by each role through the ORM as that user.

Company A has two salespeople, each with an open opportunity, a quotation about it that
quote-to-cash holds, and a support ticket; company B has the same for its own people.
Each role reads each report model and sees one of: ``own`` (the rows of their own
documents only), ``all`` (both salespeople's rows of company A), ``none`` (no row of
company A), ``denied`` (an AccessError: the report is not for them). The other company's
rows never reach a user of company A, and the reverse.
"""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

ROLES = ("salesman_own", "salesman_all", "stock_user", "support_agent", "manager_a", "other_company")

EXPECTED = {
    #                          own docs   all docs   stock      agent      managers   other company
    "crm.c360.pipeline.report": ("own", "all", "denied", "denied", "all", "none"),
    "crm.c360.demand.report": ("own", "all", "all", "denied", "all", "none"),
    "sale.q2c.report": ("denied", "denied", "denied", "denied", "all", "none"),
    "sale.q2c.dso.report": ("denied", "denied", "denied", "denied", "all", "none"),
    "support.sla.report": ("denied", "denied", "denied", "denied", "all", "none"),
    "support.backlog.report": ("denied", "denied", "denied", "denied", "all", "none"),
}


@tagged("post_install", "-at_install")
class TestReportRoles(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_a = env.ref("base.main_company")
        cls.company_b = env["res.company"].create({"name": "Reports Company B"})
        managers = (
            "sales_team.group_sale_manager,support_desk.group_support_manager,"
            "stock.group_stock_manager,account.group_account_manager"
        )
        cls.users = {
            "salesman_own": new_test_user(env, "rep_own", groups="sales_team.group_sale_salesman"),
            "salesman_all": new_test_user(env, "rep_all", groups="sales_team.group_sale_salesman_all_leads"),
            "stock_user": new_test_user(env, "rep_stock", groups="stock.group_stock_user"),
            "support_agent": new_test_user(env, "rep_agent", groups="support_desk.group_support_user"),
            "manager_a": new_test_user(env, "rep_manager", groups=managers),
            "other_company": new_test_user(
                env,
                "rep_other",
                groups=managers,
                company_id=cls.company_b.id,
                company_ids=[Command.set(cls.company_b.ids)],
            ),
        }
        cls.colleague = new_test_user(env, "rep_colleague", groups="sales_team.group_sale_salesman")
        seller_b = new_test_user(
            env,
            "rep_seller_b",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.product = env["product.product"].create({"name": "Report Widget", "list_price": 50.0, "type": "consu"})
        cls.docs = {
            "own": cls._documents(cls.users["salesman_own"], cls.company_a),
            "colleague": cls._documents(cls.colleague, cls.company_a),
            "b": cls._documents(seller_b, cls.company_b),
        }
        env.flush_all()

    @classmethod
    def _documents(cls, seller, company):
        env = cls.env
        customer = env["res.partner"].create({"name": f"Report customer of {seller.login}", "is_company": True})
        lead = env["crm.lead"].create(
            {
                "name": f"Report deal of {seller.login}",
                "type": "opportunity",
                "partner_id": customer.id,
                "user_id": seller.id,
                "team_id": False,
                "company_id": company.id,
                "expected_revenue": 500.0,
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": seller.id,
                "opportunity_id": lead.id,
                "company_id": company.id,
                "order_line": [Command.create({"product_id": cls.product.id, "product_uom_qty": 3})],
            }
        )
        team = env["support.team"].create({"name": f"Report team of {seller.login}", "company_id": company.id})
        ticket = env["support.ticket"].create({"name": "Report ticket", "team_id": team.id, "partner_id": customer.id})
        env.flush_all()
        # held by quote-to-cash, as its runner leaves it (SQL: the state matters here, not who set it)
        env.cr.execute("UPDATE sale_order SET q2c_state = 'blocked' WHERE id = %s", [order.id])
        env.invalidate_all()
        return {"lead": lead, "order": order, "ticket": ticket, "company": company}

    def _rows(self, model, key, docs):
        """The report rows that stand for one set of documents (superuser's view)."""
        Report = self.env[model]
        field = {
            "crm.c360.pipeline.report": ("lead_id", "lead"),
            "crm.c360.demand.report": ("lead_id", "lead"),
            "sale.q2c.report": ("order_id", "order"),
            "sale.q2c.dso.report": ("company_id", "company"),
            "support.sla.report": ("ticket_id", "ticket"),
            "support.backlog.report": ("company_id", "company"),
        }[model]
        rows = Report.search([(field[0], "=", docs[field[1]].id)])
        if key != "b":  # company B's rows are looked for only to catch a leak (it has no invoices: no DSO)
            self.assertTrue(rows, f"{model} has no row for the {key} documents: the test data is wrong")
        return set(rows.ids)

    def _report_outcome(self, model, user):
        own, colleague, company_b = (self._rows(model, key, self.docs[key]) for key in ("own", "colleague", "b"))
        try:
            seen = set(self.env[model].with_user(user).search([]).ids)
        except AccessError:
            return "denied"
        if company_b & seen and user.company_id != self.company_b:
            return "leak: company B"
        if user.company_id == self.company_b:
            return "none" if not (own | colleague) & seen else "leak: company A"
        if own <= seen and colleague <= seen:
            return "all"
        if own <= seen and not colleague & seen:
            return "own"
        return "none" if not (own | colleague) & seen else "partial"

    def test_each_role_reads_each_report(self):
        observed = {model: tuple(self._report_outcome(model, self.users[role]) for role in ROLES) for model in EXPECTED}
        lines = [f"{'report':<26} " + " ".join(f"{role:<14}" for role in ROLES)]
        lines += [f"{model:<26} " + " ".join(f"{cell:<14}" for cell in cells) for model, cells in observed.items()]
        print("\n" + "\n".join(lines))
        self.assertEqual(observed, EXPECTED, "\n".join(lines))
