from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import Q2cCommon

INTERNAL = (
    "q2c_state",
    "q2c_blocked_reason",
    "q2c_exception_reason",
    "q2c_exception_step",
    "q2c_approval_state",
    "q2c_approved_amount",
    "q2c_approved_by_id",
    "q2c_profile_id",
    "q2c_touchless",
    "q2c_pending",
    "q2c_attempts",
    "q2c_next_try",
    "q2c_recorded_by_id",
    "q2c_log_ids",
)


@tagged("post_install", "-at_install")
class TestQuoteToCashPortalAccess(Q2cCommon, HttpCase):
    """The customer, logged in on the portal, asks the server itself for the chain's assessments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(cls.env, "q2c_portal_customer", groups="base.group_portal")
        cls.buyer = cls.portal_user.partner_id
        cls.buyer.with_company(cls.company).credit_limit = 100.0
        cls.profile.credit_check = "block"
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.buyer.id,
                "company_id": cls.company.id,
                "order_line": [(0, 0, {"product_id": cls.service.id, "product_uom_qty": 3})],
            }
        )
        cls.order.state = "sent"
        cls.order._q2c_record_acceptance("email", cls.buyer.name)
        cls.order.env["sale.order"]._q2c_run(commit=False)

    def _call(self, method, args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/sale.order/{method}",
            {"model": "sale.order", "method": method, "args": args, "kwargs": kwargs},
        )

    def test_the_customer_reads_the_order_but_not_its_assessments(self):
        self.assertEqual(self.order.q2c_state, "blocked")
        self.assertIn("credit limit", self.order.q2c_blocked_reason)
        self.authenticate(self.portal_user.login, self.portal_user.login)
        rows = self._call("read", [self.order.ids, ["name", "amount_total", "q2c_accepted_on"]])
        self.assertEqual(rows[0]["name"], self.order.name)
        for field in INTERNAL:
            with self.subTest(field=field), self.assertRaisesRegex(JsonRpcException, "AccessError"):
                self._call("read", [self.order.ids, [field]])

    def test_the_customer_cannot_search_on_them_either(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call("search_read", [], domain=[("q2c_state", "=", "blocked")], fields=["name"])
        rows = self._call("search_read", [], domain=[("id", "=", self.order.id)], fields=["name", "q2c_accepted_by"])
        self.assertEqual([row["name"] for row in rows], [self.order.name])

    def test_the_portal_pages_of_the_order_still_show(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        for url in ("/my/quotes", self.order.get_portal_url()):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                self.assertIn(self.order.name, response.text)
