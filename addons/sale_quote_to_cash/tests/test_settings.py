from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user


class TestQuoteToCashSettings(TransactionCase):
    def test_batch_size_is_stored_as_parameter(self):
        self.env["res.config.settings"].create({"q2c_batch_size": 50}).execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("sale_quote_to_cash.batch_size"), "50")

    def test_batch_size_outside_range_is_refused(self):
        for size in (0, 501):
            with self.subTest(size=size), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create({"q2c_batch_size": size})

    def test_only_sales_managers_approve(self):
        manager = new_test_user(self.env, "q2c_mgr", groups="sales_team.group_sale_manager")
        salesman = new_test_user(self.env, "q2c_sales", groups="sales_team.group_sale_salesman")
        self.assertTrue(manager.has_group("sale_quote_to_cash.group_q2c_approver"))
        self.assertFalse(salesman.has_group("sale_quote_to_cash.group_q2c_approver"))
