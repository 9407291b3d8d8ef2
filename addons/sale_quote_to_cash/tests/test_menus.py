from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestQuoteToCashMenus(TransactionCase):
    def test_sales_app_opens_where_odoo_opens_it(self):
        """The Sales app opens on Odoo's quotations; the board has its own entry in it."""
        user = new_test_user(
            self.env,
            "q2c_menu_manager",
            groups="sales_team.group_sale_manager,account.group_account_invoice",
        )
        menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
        sales = menus[self.env.ref("sale.sale_menu_root").id]
        self.assertEqual(sales["actionID"], self.env.ref("sale.action_quotations_with_onboarding").id)
        board = self.env.ref("sale_quote_to_cash.menu_q2c_board")
        self.assertIn(board.id, menus)
        self.assertEqual(menus[board.id]["actionID"], self.env.ref("sale_quote_to_cash.action_q2c_board").id)
