"""The Customer 360's ``sudo()``, run by the users they act for: what each one lets them reach.

A support agent's ticket is linked to an order they may not read, an invoicing user's summary
sums what orders they may not read still have to invoice, a salesperson's measure of a
customer's health asks the account manager to act: each test goes through that entry point
as that user, and checks they get the figure or the link and nothing more of the documents.
"""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged

from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestSudoSafety(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env, "c360_sudo_agent", groups="support_desk.group_support_user", company_id=cls.company.id
        )
        # invoicing rights, and the orders of a salesperson's own documents only
        cls.accountant = new_test_user(
            cls.env,
            "c360_sudo_accountant",
            groups="sales_team.group_sale_salesman,account.group_account_invoice",
            company_id=cls.company.id,
        )
        cls.account_manager = new_test_user(
            cls.env, "c360_sudo_account_manager", groups="sales_team.group_sale_salesman", company_id=cls.company.id
        )
        cls.retention = cls.env.ref("crm_customer_360.mail_activity_type_retention")

    def test_an_agent_quoting_orders_links_only_their_customers_and_reads_none(self):
        """_c360_link_orders: the ticket's customer's order, by the reference quoted, and no more."""
        theirs = self.make_order(self.ann, 1)
        foreign = self.make_order(self.other, 1)
        self.assertFalse(self.env["sale.order"].with_user(self.agent).has_access("read"))
        Ticket = self.env["support.ticket"].with_user(self.agent)
        linked, refused = Ticket.create(
            [
                {"name": f"Where is {theirs.name}?", "partner_id": self.acme.id, "team_id": self.support_team.id},
                {"name": f"And {foreign.name}?", "partner_id": self.acme.id, "team_id": self.support_team.id},
            ]
        )
        self.assertEqual(linked.sudo().sale_order_id, theirs)
        self.assertFalse(refused.sudo().sale_order_id, "another customer's order is not linked, whoever quotes it")
        self.env.invalidate_all()
        self.assertEqual(linked.read(["sale_order_id"])[0]["sale_order_id"], (theirs.id, theirs.name))
        with self.assertRaises(AccessError):
            linked.sale_order_id.read(["amount_total"])
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.agent).search([("id", "=", foreign.id)])

    def test_an_invoicing_user_reads_what_is_left_to_invoice_without_the_orders(self):
        """_c360_accounting: one total per customer, of the current company, for the accounting only."""
        order = self.make_order(self.acme, 2)
        self.make_order(self.ann, 1)
        self.make_order(self.other, 7)
        company_b = self.setup_other_company(name="C360 Sudo Second Company")["company"]
        self.make_order(self.ann, 5, company=company_b)
        self.make_invoice(self.acme, 150.0, 10)
        Order = self.env["sale.order"].with_user(self.accountant)
        self.assertFalse(Order.search([("partner_id", "child_of", self.acme.id)]), "orders of another salesperson")
        summary = self.summary(self.acme.with_user(self.accountant))
        self.assertTrue(summary["accounting"])
        self.assertAlmostEqual(summary["invoices_open"], 150.0)
        # 150 invoiced and 300 still to invoice here; nor the other customer's 700, nor the 500 of company B
        self.assertAlmostEqual(summary["credit_used"], 450.0)
        self.assertEqual((summary["orders"], summary["quotations"]), (0, 0), "no order is counted for them")
        with self.assertRaises(AccessError):
            order.with_user(self.accountant).read(["amount_total"])
        # a salesperson reads the orders their rules allow, and no accounting total
        summary = self.summary(self.acme.with_user(self.salesman))
        self.assertFalse(summary["accounting"])
        self.assertNotIn("credit_used", summary)

    def test_a_salesperson_measuring_a_customer_alerts_its_account_manager_only(self):
        """_c360_health_threshold, _c360_retention_activities: the button, as a salesperson presses it."""
        now = fields.Datetime.now()
        for days in (170, 150, 130, 110, 60):  # buying less than before: the trend turns down
            self.make_order(self.ann, 1).date_order = now - timedelta(days=days)
        self.acme.user_id = self.account_manager
        self.env.flush_all()
        # an agent may not change the customer: no measure, no activity
        with self.assertRaises(AccessError):
            self.acme.with_user(self.agent).action_c360_measure_health()
        self.assertFalse(self.acme.c360_health_date)
        acme = self.acme.with_user(self.salesman)
        acme.action_c360_measure_health()
        self.assertTrue(acme.c360_churn_risk)
        activities = self.acme.activity_ids.filtered(lambda activity: activity.activity_type_id == self.retention)
        self.assertEqual(activities.user_id, self.account_manager, "for the account manager, not for who pressed")
        self.assertIn("Buying trend turned down", activities.summary)
        acme.action_c360_measure_health()
        self.assertEqual(
            self.acme.activity_ids.filtered(lambda activity: activity.activity_type_id == self.retention),
            activities,
            "one open retention activity, whoever it is assigned to",
        )
        # the setting the measure read stays the administrator's
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.salesman).get_param("crm_customer_360.health_threshold")

    def test_the_health_job_and_its_batch_size_cannot_be_called_remotely(self):
        """_cron_c360_health, _c360_health_batch_size: the nightly job (all companies, the job's
        setting) runs as its cron's user only; no user's RPC reaches it or what it claims."""
        for method in ("_cron_c360_health", "_c360_health_batch_size", "_c360_health_todo"):
            for user in (self.salesman, self.agent, self.accountant):
                with self.subTest(method=method, user=user.login), self.assertRaises(AccessError):
                    call_kw(self.env["res.partner"].with_user(user), method, [], {})
        self.assertFalse(self.acme.c360_health_date)
