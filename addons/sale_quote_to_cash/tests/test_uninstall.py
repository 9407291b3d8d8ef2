from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import uninstall_hook
from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashUninstall(Q2cCommon):
    """The uninstall hook, called in the test transaction as the uninstall calls it (superuser)."""

    def _uninstall_hook(self):
        uninstall_hook(api.Environment(self.env.cr, SUPERUSER_ID, {}))

    def _todo(self, order):
        return order.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo"))

    def test_accepted_quotations_are_confirmed_by_odoo(self):
        signed = self.quote([(self.service, 1)], require_signature=True, user_id=self.salesman.id)
        signed.signed_by = "Quincy Buyer"
        signed._validate_order()  # Odoo's own confirmation skipped: the chain was to confirm it
        paid = self.quote([(self.service, 1)], user_id=self.salesman.id)
        self.accept(paid, channel="portal_pay")
        by_phone = self.quote([(self.storable_order, 2)], user_id=self.salesman.id)
        self.accept(by_phone)
        untouched = self.quote([(self.service, 1)], user_id=self.salesman.id)  # never accepted
        for order in (signed, paid, by_phone):
            self.assertEqual((order.state, order.q2c_state), ("draft", "queued"))

        self._uninstall_hook()

        for order in (signed, paid, by_phone):
            with self.subTest(order=order.name):
                self.assertEqual(order.state, "sale")
                self.assertFalse(self._todo(order))
                self.assertIn("Confirmed when quote to cash was uninstalled", order.message_ids[:1].body)
        self.assertEqual(by_phone.picking_ids.state, "assigned", "reserved as Odoo does: no runner comes next")
        self.assertEqual(untouched.state, "draft")
        self.assertFalse(untouched.activity_ids)

    def test_what_the_checks_hold_or_a_person_confirms_gets_a_to_do(self):
        self.profile.credit_check = "block"
        self.customer.with_company(self.company).credit_limit = 1.0
        self.customer.invalidate_recordset(["use_partner_credit_limit"])
        blocked = self.quote([(self.service, 1)], user_id=self.salesman.id)
        self.accept(blocked)
        self.run_chain()
        unchecked = self.quote([(self.service, 1)], user_id=self.salesman.id)
        self.accept(unchecked)
        self.assertEqual((blocked.q2c_state, unchecked.q2c_state), ("blocked", "queued"))

        self._uninstall_hook()

        for order in (blocked, unchecked):
            with self.subTest(order=order.name):
                self.assertEqual(order.state, "draft")
                todo = self._todo(order)
                self.assertEqual(todo.user_id, self.salesman)
                self.assertIn("credit limit", todo.note)
                note = order.message_ids[:1].body
                self.assertIn("Quincy Buyer accepted this quotation", note)
                self.assertIn("confirm the order by hand", note)

    def test_a_profile_that_leaves_the_confirmation_to_a_person(self):
        self.profile.auto_confirm = False
        order = self.quote([(self.service, 1)], user_id=self.salesman.id)
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "to_confirm")
        self._uninstall_hook()
        self.assertEqual(order.state, "draft")
        self.assertIn("leaves the confirmation to a person", self._todo(order).note)

    def test_a_confirmation_that_fails_is_handed_over_with_its_error(self):
        good, bad = (self.quote([(self.service, 1)], user_id=self.salesman.id) for _ in range(2))
        self.accept(good | bad)
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._action_confirm
        closed = UserError("The warehouse is closed.")

        def failing(orders):
            if bad in orders:
                raise closed
            return original(orders)

        with patch.object(SaleOrder, "_action_confirm", failing):
            self._uninstall_hook()
        self.assertEqual(good.state, "sale", "one failure holds no other order")
        self.assertEqual(bad.state, "draft")
        self.assertIn("The warehouse is closed.", self._todo(bad).note)
        self.assertFalse(self._todo(good))
