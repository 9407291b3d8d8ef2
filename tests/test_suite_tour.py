"""The harness's browser tour: every suite menu opens, on a desktop and a phone."""

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestSuiteMenusDesktop(HttpCase):
    def test_suite_menus_tour(self):
        self.start_tour("/odoo", "crm_suite_menus_tour", login="admin")


@tagged("post_install", "-at_install")
class TestSuiteMenusPhone(HttpCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_suite_menus_tour(self):
        self.start_tour("/odoo", "crm_suite_menus_tour", login="admin")
