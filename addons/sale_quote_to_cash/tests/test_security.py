from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashSecurity(Q2cCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_salesman = new_test_user(
            cls.env, "q2c_other_salesman", groups="sales_team.group_sale_salesman", company_id=cls.company.id
        )
        cls.portal = new_test_user(cls.env, "q2c_portal", groups="base.group_portal")

    def _order_of(self, user):
        order = self.quote([(self.service, 1)], user_id=user.id)
        self.accept(order)
        self.run_chain()
        return order

    def test_salesperson_reads_the_history_of_own_orders_only(self):
        mine = self._order_of(self.salesman)
        theirs = self._order_of(self.other_salesman)
        Log = self.env["sale.q2c.log"].with_user(self.salesman)
        visible = Log.search([("order_id", "in", (mine | theirs).ids)])
        self.assertTrue(visible)
        self.assertEqual(visible.order_id, mine)
        with self.assertRaises(AccessError):
            theirs.q2c_log_ids.with_user(self.salesman).read(["message"])

    def test_nobody_edits_the_history(self):
        order = self._order_of(self.salesman)
        log = order.q2c_log_ids[:1]
        for user in (self.salesman, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                log.with_user(user).write({"message": "rewritten"})

    def test_profiles_are_set_by_sales_administrators(self):
        with self.assertRaises(AccessError):
            self.profile.with_user(self.salesman).write({"auto_post": False})
        self.assertTrue(self.profile.with_user(self.salesman).read(["name"]))
        self.profile.with_user(self.manager).write({"auto_post": False})
        self.assertFalse(self.profile.auto_post)

    def test_reports_are_for_managers(self):
        self._order_of(self.salesman)
        for model in ("sale.q2c.report", "sale.q2c.dso.report"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.salesman).search([])
        self.assertTrue(self.env["sale.q2c.report"].with_user(self.manager).search([]))

    def test_portal_user_sees_no_history(self):
        self._order_of(self.salesman)
        with self.assertRaises(AccessError):
            self.env["sale.q2c.log"].with_user(self.portal).search([])

    def test_other_company_profile_and_history_are_hidden(self):
        other = self.env["res.company"].create({"name": "Q2C Other Co"})
        foreign = self.env["sale.q2c.profile"].create({"name": "Foreign", "company_id": other.id})
        shared = self.env["sale.q2c.profile"].create({"name": "Shared", "company_id": False})
        user = self.env["res.users"].browse(self.manager.id)
        visible = (
            self.env["sale.q2c.profile"].with_user(user).with_context(allowed_company_ids=[self.company.id]).search([])
        )
        self.assertIn(shared, visible)
        self.assertNotIn(foreign, visible)

    def test_company_profile_must_belong_to_the_company(self):
        other = self.env["res.company"].create({"name": "Q2C Other Co 2"})
        foreign = self.env["sale.q2c.profile"].create({"name": "Foreign 2", "company_id": other.id})
        order = self.quote([(self.service, 1)])
        with self.assertRaises(UserError):
            order.q2c_profile_id = foreign

    def test_a_cashier_posting_a_transfer_wakes_the_customers_orders_without_reading_them(self):
        """The payment hook queues, as superuser, the orders of the payment's customer that wait
        for a payment: a cashier who may read none of them wakes them, reads nothing from it and
        wakes no other customer's; the runner decides what the payment pays."""
        theirs = self._order_of(self.other_salesman)
        stranger = self.env["res.partner"].create({"name": "Another Customer"})
        elsewhere = self.quote([(self.service, 1)], partner=stranger, user_id=self.other_salesman.id)
        self.accept(elsewhere)
        self.run_chain()
        self.assertEqual((theirs | elsewhere).mapped("q2c_state"), ["paying", "paying"])
        cashier = new_test_user(
            self.env,
            "q2c_cashier",
            groups="sales_team.group_sale_salesman,account.group_account_invoice",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            theirs.with_user(cashier).read(["name"])
        payment = (
            self.env["account.payment"]
            .with_user(cashier)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": self.customer.id,
                    "amount": theirs.amount_total,
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "memo": theirs.name,
                }
            )
        )
        payment.action_post()
        self.assertTrue(theirs.q2c_pending, "the payment wakes the chain of the customer's order")
        self.assertFalse(elsewhere.q2c_pending, "and of no other customer's")
        with self.assertRaises(AccessError):
            theirs.with_user(cashier).write({"q2c_state": "done"})
        self.run_chain()
        self.assertEqual(theirs.q2c_state, "done")
        self.assertEqual(payment.reconciled_invoice_ids, self.customer_invoices(theirs))

    def test_a_warehouse_user_validates_the_delivery_and_moves_the_chain_on(self):
        """The delivery hook wakes the chain as superuser: the storekeeper needs no sales rights for it,
        and gets none from it (the chain's fields stay out of their reach)."""
        self.profile.auto_deliver = False
        order = self.quote([(self.storable_order, 2)], user_id=self.salesman.id)
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale")
        order.flush_recordset()
        self.env.cr.execute("UPDATE sale_order SET q2c_pending = FALSE WHERE id = %s", [order.id])
        order.invalidate_recordset(["q2c_pending"])
        storekeeper = new_test_user(
            self.env, "q2c_storekeeper", groups="stock.group_stock_user", company_id=self.company.id
        )
        picking = order.picking_ids.with_user(storekeeper)
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertTrue(order.q2c_pending, "the delivery moves the chain on")
        with self.assertRaises(AccessError):
            order.with_user(storekeeper).read(["q2c_state"])
