from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashChecks(Q2cCommon):
    def _credit_limit(self, limit):
        self.customer.with_company(self.company).credit_limit = limit
        self.customer.invalidate_recordset(["use_partner_credit_limit"])

    def test_credit_limit_blocks_with_the_figures(self):
        self.profile.credit_check = "block"
        self._credit_limit(500.0)
        open_order = self.quote([(self.service, 2)])  # 160 + tax, confirmed and not invoiced
        open_order.with_context(q2c_runner=True).action_confirm()
        order = self.quote([(self.service, 5)])  # 400 + tax
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.q2c_state, "blocked")
        reason = order.q2c_blocked_reason
        self.assertIn("over the credit limit", reason)
        self.assertIn("higher limit", reason, "the words say what unblocks it")
        self.assertEqual(self.last_log(order).result, "blocked")
        # Raising the limit and retrying lets it through.
        self._credit_limit(5000.0)
        order.action_q2c_retry()
        self.run_chain()
        self.assertEqual(order.state, "sale")

    def test_credit_limit_counts_open_invoices_and_orders(self):
        self.profile.credit_check = "block"
        total = self.quote([(self.service, 1)]).amount_total
        # Limit fits exactly this order alone: one open order of the same amount makes it too much.
        self._credit_limit(total * 1.5)
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale", "alone it fits the limit")
        second = self.quote([(self.service, 1)])
        self.accept(second)
        self.run_chain()
        self.assertEqual(second.q2c_state, "blocked", "the first one's open invoice counts now")

    def test_credit_limit_approval_by_a_manager(self):
        self.profile.credit_check = "approval"
        self._credit_limit(10.0)
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "approval")
        self.assertEqual(order.q2c_approval_state, "requested")
        activity = order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("sale_quote_to_cash.mail_activity_q2c_approval")
        )
        self.assertEqual(len(activity), 1)
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).action_q2c_approve()
        order.with_user(self.manager).action_q2c_approve()
        self.assertEqual(order.q2c_approved_by_id, self.manager)
        self.assertFalse(order.activity_ids.filtered(lambda a: a.activity_type_id == activity.activity_type_id))
        self.run_chain()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.q2c_touchless)

    def test_approval_is_void_when_the_amount_changes(self):
        self.profile.credit_check = "approval"
        self._credit_limit(10.0)
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        order.with_user(self.manager).action_q2c_approve()
        order.order_line.product_uom_qty = 3
        self.run_chain()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.q2c_state, "approval", "a bigger order asks again")

    def test_a_blocked_order_is_not_confirmed_by_hand_around_the_check(self):
        self.profile.credit_check = "block"
        self._credit_limit(10.0)
        order = self.quote([(self.service, 1)], user_id=self.salesman.id)
        self.accept(order)
        self.run_chain()
        with self.assertRaisesRegex(UserError, "credit limit"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")
        order.with_user(self.manager).action_confirm()  # an approver may overrule the check
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.q2c_pending, "the chain goes on from the confirmation")
        self.assertIn("over the checks", self.last_log(order).message)
        self.run_chain()
        self.assertEqual(self.customer_invoices(order).state, "posted")

    def test_refused_approval_blocks(self):
        self.profile.credit_check = "approval"
        self._credit_limit(10.0)
        order = self.quote([(self.service, 1)])
        self.accept(order)
        self.run_chain()
        order.with_user(self.manager).action_q2c_refuse()
        self.assertEqual(order.q2c_state, "blocked")
        self.assertEqual(order.state, "draft")

    def test_out_of_stock_blocks_first_come_first_served(self):
        self.profile.stock_check = "block"
        first = self.quote([(self.storable_order, 70)])
        second = self.quote([(self.storable_order, 40)])  # 100 in stock: 70 + 40 do not fit
        self.accept(first)
        self.accept(second)
        self.run_chain()
        self.assertEqual(first.state, "sale")
        self.assertEqual(second.q2c_state, "blocked")
        self.assertIn("Desk (on order): 40 Units ordered, 30 forecast", second.q2c_blocked_reason)
        self.assertIn("Receiving stock", second.q2c_blocked_reason)

    def test_stock_check_ignores_services_and_consumables(self):
        self.profile.stock_check = "block"
        order = self.quote([(self.service, 500), (self.consumable, 500)])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.state, "sale")

    def test_minimum_margin(self):
        self.profile.write({"margin_check": "block", "min_margin": 30.0})
        good = self.quote([(self.storable_order, 1, {"price_unit": 100.0})])  # cost 60: 40%
        bad = self.quote([(self.storable_order, 1, {"price_unit": 80.0})])  # 25%
        self.accept(good | bad)
        self.run_chain()
        self.assertEqual(good.state, "sale")
        self.assertEqual(bad.q2c_state, "blocked")
        self.assertIn("25.0%", bad.q2c_blocked_reason)
        self.assertIn("30.0%", bad.q2c_blocked_reason)

    def test_maximum_discount_asks_approval(self):
        self.profile.write({"discount_check": "approval", "max_discount": 10.0})
        order = self.quote([(self.service, 1, {"discount": 25.0})])
        fine = self.quote([(self.service, 1, {"discount": 10.0})])
        self.accept(order | fine)
        self.run_chain()
        self.assertEqual(order.q2c_state, "approval")
        self.assertIn("25%", order.q2c_blocked_reason)
        self.assertEqual(fine.state, "sale")

    def test_block_wins_over_approval(self):
        self.profile.write({"discount_check": "approval", "max_discount": 10.0, "credit_check": "block"})
        self._credit_limit(1.0)
        order = self.quote([(self.service, 1, {"discount": 25.0})])
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "blocked")
        self.assertIn("credit limit", order.q2c_blocked_reason)
        self.assertIn("discount", order.q2c_blocked_reason)
