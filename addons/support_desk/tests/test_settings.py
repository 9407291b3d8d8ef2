from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user


class TestSupportSettings(TransactionCase):
    def test_warning_share_is_stored_as_parameter(self):
        self.env["res.config.settings"].create({"support_sla_warning_share": 70}).execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("support_desk.sla_warning_share"), "70")

    def test_warning_share_outside_range_is_refused(self):
        for share in (0, 100):
            with self.subTest(share=share), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create({"support_sla_warning_share": share})

    def test_manager_level_implies_agent(self):
        manager = new_test_user(self.env, "support_mgr", groups="support_desk.group_support_manager")
        self.assertTrue(manager.has_group("support_desk.group_support_user"))
        agent = new_test_user(self.env, "support_agent", groups="support_desk.group_support_user")
        self.assertFalse(agent.has_group("support_desk.group_support_manager"))
