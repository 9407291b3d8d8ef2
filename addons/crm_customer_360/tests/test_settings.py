from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase
from odoo.tools.safe_eval import safe_eval


class TestCustomer360Settings(TransactionCase):
    def test_health_threshold_is_stored_as_parameter(self):
        self.env["res.config.settings"].create({"customer_health_threshold": 35}).execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("crm_customer_360.health_threshold"), "35")

    def test_health_threshold_outside_range_is_refused(self):
        for threshold in (-1, 101):
            with self.subTest(threshold=threshold), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create({"customer_health_threshold": threshold})

    def test_customers_action_lists_customers_only(self):
        action = self.env.ref("crm_customer_360.action_customer_360_customers")
        customer = self.env["res.partner"].create({"name": "Customer 360 Buyer", "customer_rank": 1})
        prospect = self.env["res.partner"].create({"name": "Customer 360 Prospect"})
        found = self.env["res.partner"].search(safe_eval(action.domain))
        self.assertIn(customer, found)
        self.assertNotIn(prospect, found)
