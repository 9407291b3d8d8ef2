from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import Q2cCommon


@tagged("post_install", "-at_install")
class TestQuoteToCashNoWalkAround(Q2cCommon):
    """A salesperson, through the ORM as that user, tries each way around the checks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile.credit_check = "block"
        cls.lax = cls.env["sale.q2c.profile"].create(
            {"name": "No checks", "company_id": cls.company.id, "credit_check": "off"}
        )
        cls.customer.with_company(cls.company).credit_limit = 300.0
        cls.customer.invalidate_recordset(["use_partner_credit_limit"])

    def _over_the_limit(self):
        """A quotation of the salesperson, well over the customer's credit limit."""
        return self.quote([(self.service, 1, {"price_unit": 1700.0})], user_id=self.salesman.id)

    def _blocked(self):
        order = self._over_the_limit()
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "blocked")
        self.assertIn("over the credit limit", order.q2c_blocked_reason)
        return order

    def assertNotConfirmed(self, order):
        self.assertIn(order.state, ("draft", "sent"))
        self.assertFalse(order.picking_ids or order.invoice_ids)

    def test_a_salesperson_cannot_switch_the_profile_then_retry(self):
        order = self._blocked()
        as_salesman = order.with_user(self.salesman)
        with self.assertRaises(AccessError):
            as_salesman.write({"q2c_profile_id": self.lax.id})
        self.assertEqual(order.q2c_profile_id, self.profile)
        as_salesman.action_q2c_retry()
        self.run_chain()
        self.assertEqual(order.q2c_state, "blocked")
        self.assertNotConfirmed(order)

    def test_a_salesperson_cannot_give_the_customer_a_lax_profile(self):
        order = self._blocked()
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).write({"q2c_profile_id": self.lax.id})
        self.assertFalse(self.customer.q2c_profile_id)
        self.customer.with_user(self.salesman).write({"phone": "+32 2 555 00 00"})  # the rest of the form
        # Recording the acceptance again takes the profile the customer has: still the checks.
        self.env["sale.q2c.accept.wizard"].with_user(self.salesman).create(
            {"order_id": order.id, "accepted_by": "Quincy Buyer"}
        ).action_accept()
        self.run_chain()
        self.assertEqual(order.q2c_state, "blocked")
        fresh = self._over_the_limit()
        with self.assertRaisesRegex(UserError, "over the credit limit"):
            fresh.with_user(self.salesman).action_confirm()
        self.customer.with_user(self.manager).write({"q2c_profile_id": self.lax.id})
        self.assertEqual(self.customer.q2c_profile_id, self.lax, "a sales manager may")

    def test_a_salesperson_cannot_write_the_chain_state(self):
        order = self._blocked()
        as_salesman = order.with_user(self.salesman)
        for vals in (
            {"q2c_state": False},
            {"q2c_state": "to_confirm"},
            {"q2c_approval_state": "approved", "q2c_approved_amount": order.amount_total},
            {"q2c_blocked_reason": False},
            {"q2c_exception_reason": "none"},
            {"q2c_pending": False},
            {"q2c_touchless": True},
            {"q2c_approved_by_id": self.manager.id},
            {"q2c_accepted_on": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_salesman.write(vals)
        self.assertEqual(order.q2c_state, "blocked")
        with self.assertRaisesRegex(UserError, "over the credit limit"):
            as_salesman.action_confirm()
        self.assertNotConfirmed(order)

    def test_a_forged_runner_context_is_not_the_runner(self):
        order = self._blocked()
        with self.assertRaisesRegex(UserError, "over the credit limit"):
            order.with_user(self.salesman).with_context(q2c_runner=True).action_confirm()
        self.assertNotConfirmed(order)

    def test_a_salesperson_cannot_create_or_copy_an_order_in_the_chain(self):
        Order = self.env["sale.order"].with_user(self.salesman)
        values = {"partner_id": self.customer.id, "user_id": self.salesman.id}
        with self.assertRaises(AccessError):
            Order.create({**values, "q2c_state": "to_confirm"})
        with self.assertRaises(AccessError):
            Order.with_context(default_q2c_approval_state="approved").create(values)
        order = self._blocked()
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).copy({"q2c_approval_state": "approved"})

    def test_the_duplicate_of_a_blocked_order_goes_through_the_checks(self):
        order = self._blocked()
        copy = order.with_user(self.salesman).copy()
        self.assertFalse(copy.q2c_state, "a copy starts unchecked")
        self.assertFalse(copy.q2c_approval_state or copy.q2c_profile_id)
        with self.assertRaisesRegex(UserError, "over the credit limit"):
            copy.with_user(self.salesman).action_confirm()
        self.assertNotConfirmed(copy)

    def test_a_queued_order_is_checked_before_a_salesperson_confirms_it(self):
        order = self._over_the_limit()
        self.accept(order)
        self.assertEqual(order.q2c_state, "queued", "the front cron has not checked it yet")
        with self.assertRaisesRegex(UserError, "over the credit limit") as caught:
            order.with_user(self.salesman).action_confirm()
        self.assertIn(order.name, str(caught.exception))
        self.assertNotConfirmed(order)
        self.assertEqual(order.q2c_state, "queued", "nothing half-written")

    def test_a_quotation_confirmed_by_hand_gets_the_checks_of_its_profile(self):
        order = self._over_the_limit()
        with self.assertRaisesRegex(UserError, "over the credit limit"):
            order.with_user(self.salesman).action_confirm()
        self.assertNotConfirmed(order)
        self.assertFalse(order.q2c_state)

    def test_a_salesperson_confirms_once_the_checks_pass(self):
        order = self._blocked()
        self.customer.with_company(self.company).credit_limit = 100000.0
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.q2c_state, "queued")
        self.assertIn("checks passed", self.last_log(order).message)
        self.run_chain()
        self.assertEqual(self.customer_invoices(order).state, "posted")

    def test_without_checks_a_salesperson_confirms_as_in_odoo(self):
        self.company.q2c_profile_id = self.lax
        order = self._over_the_limit()
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.q2c_acceptance_channel, "confirm")

    def test_a_sales_manager_changes_the_profile_and_voids_the_approval(self):
        self.profile.credit_check = "approval"
        order = self._over_the_limit()
        self.accept(order)
        self.run_chain()
        self.assertEqual(order.q2c_state, "approval")
        order.with_user(self.manager).action_q2c_approve()
        self.assertEqual(order.q2c_approval_state, "approved")
        strict = self.profile.copy({"name": "Strict"})
        order.with_user(self.manager).write({"q2c_profile_id": strict.id})
        self.assertFalse(order.q2c_approval_state, "the approval was given under the former profile")
        self.assertFalse(order.q2c_approved_by_id)
        self.assertEqual(order.q2c_state, "queued")
        self.assertIn("checks run again", self.last_log(order).message)
        self.run_chain()
        self.assertEqual(order.q2c_state, "approval", "asked again under the new profile")
        self.assertNotConfirmed(order)

    def test_the_form_shows_the_chain_read_only(self):
        for user, editable in ((self.salesman, False), (self.manager, True)):
            with self.subTest(user=user.login):
                described = self.env["sale.order"].with_user(user).fields_get(["q2c_state", "q2c_profile_id"])
                self.assertTrue(described["q2c_state"]["readonly"])
                self.assertEqual(described["q2c_profile_id"]["readonly"], not editable)
