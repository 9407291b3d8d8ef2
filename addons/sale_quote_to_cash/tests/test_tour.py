from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


class QuoteToCashTourMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "tour_q2c_manager",
            groups="sales_team.group_sale_manager,account.group_account_invoice,stock.group_stock_user",
        )
        profile = cls.env["sale.q2c.profile"].create({"name": "Tour", "credit_check": "off"})
        cls.env.company.q2c_profile_id = profile
        product = cls.env["product.product"].create({"name": "Tour service", "type": "service", "list_price": 250.0})
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.env["res.partner"].create({"name": "Tour Customer"}).id,
                "user_id": cls.manager.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 2})],
            }
        )
        cls.stuck = cls.env["sale.order"].create(
            {
                "partner_id": cls.env["res.partner"].create({"name": "Tour Stuck Customer"}).id,
                "user_id": cls.manager.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )

    def _accept_then_follow_on_the_board(self):
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{self.order.id}",
            "sale_quote_to_cash_accept_tour",
            login="tour_q2c_manager",
        )
        self.env.invalidate_all()
        self.assertEqual(self.order.q2c_acceptance_channel, "email")
        self.assertEqual(self.order.q2c_recorded_by_id, self.manager)
        self.assertIn(self.order.state, ("draft", "sent"), "the click did not confirm the order")
        # The stuck one: invoicing inside the sales lock date.
        self.stuck._q2c_record_acceptance("phone", "Tour Stuck Buyer")
        self.env.company.sale_lock_date = fields.Date.today()
        self.env["sale.order"]._q2c_run(commit=False, ids=self.stuck.ids)
        self.env.company.sale_lock_date = False
        self.env["sale.order"]._q2c_run(commit=False, ids=self.order.ids)
        self.assertEqual(self.order.q2c_state, "paying")
        self.assertEqual(self.stuck.q2c_state, "exception")
        self.start_tour("/odoo/quote-to-cash", "sale_quote_to_cash_board_tour", login="tour_q2c_manager")


@tagged("post_install", "-at_install")
class TestQuoteToCashTourDesktop(QuoteToCashTourMixin, HttpCase):
    def test_accept_then_follow_on_the_board(self):
        self._accept_then_follow_on_the_board()


@tagged("post_install", "-at_install")
class TestQuoteToCashTourPhone(QuoteToCashTourMixin, HttpCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_accept_then_follow_on_the_board(self):
        self._accept_then_follow_on_the_board()
