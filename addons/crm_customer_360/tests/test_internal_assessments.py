from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import Customer360Common

ASSESSMENTS = ("c360_health", "c360_health_trend", "c360_health_reasons", "c360_health_date", "c360_churn_risk")


@tagged("post_install", "-at_install")
class TestInternalAssessments(Customer360Common, HttpCase):
    """What the company thinks of its customer (health, churn risk, the summary's figures) is
    for its internal users: a portal contact of the customer reads none of it, over RPC either."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme.customer_rank = 1
        cls.ticket = cls.make_ticket(cls.ann)
        cls.acme._c360_measure_health()
        cls.portal = new_test_user(cls.env, "c360_portal", groups="base.group_portal", partner_id=cls.ann.id)
        cls.agent = new_test_user(
            cls.env, "c360_views_agent", groups="support_desk.group_support_user", company_id=cls.company.id
        )

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def assertAccessError(self, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self.call(model, method, *args, **kwargs)
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    def test_a_portal_contact_reads_none_of_their_companys_assessment(self):
        self.assertIn("tickets open", self.acme.c360_health_reasons)
        self.authenticate(self.portal.login, self.portal.login)
        self.assertEqual(
            self.call("res.partner", "read", [self.acme.id], ["name"]), [{"id": self.acme.id, "name": "Acme"}]
        )
        self.assertAccessError(
            "res.partner", "read", [self.acme.id], ["c360_health", "c360_health_reasons", "c360_churn_risk"]
        )
        for field in (*ASSESSMENTS, "c360_summary"):
            with self.subTest(field=field):
                self.assertAccessError("res.partner", "read", [self.acme.id], [field])
        self.assertAccessError("res.partner", "search_read", [("c360_churn_risk", "=", True)], ["name"])
        self.assertAccessError("support.ticket", "read", [self.ticket.id], ["c360_summary"])
        self.assertEqual(self.call("support.ticket", "read", [self.ticket.id], ["name"])[0]["name"], self.ticket.name)
        # a field left out of the request is left out of the answer, not refused
        fields = self.call("res.partner", "fields_get", [], attributes=["type"])
        self.assertFalse(set(ASSESSMENTS) & set(fields))

    def test_the_portal_pages_still_open(self):
        self.authenticate(self.portal.login, self.portal.login)
        for url in ("/my", "/my/tickets", self.ticket.get_portal_url()):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn("/web/login", response.url)
        self.assertIn(self.ticket.name, self.url_open("/my/tickets").text)

    def test_internal_users_read_it_and_their_forms_open(self):
        for user, forms in (
            (self.salesman, ("res.partner", "crm.lead")),
            (self.agent, ("res.partner", "support.ticket")),
        ):
            for model in forms:
                with self.subTest(user=user.login, model=model):
                    views = self.env[model].with_user(user).get_views([(False, "form")])
                    self.assertIn("c360_summary", views["views"]["form"]["arch"])
            partner_form = self.env["res.partner"].with_user(user).get_views([(False, "form"), (False, "list")])
            self.assertIn("c360_health_reasons", partner_form["views"]["form"]["arch"])
            self.assertIn("c360_health", partner_form["views"]["list"]["arch"])
            self.authenticate(user.login, user.login)
            [read] = self.call("res.partner", "read", [self.acme.id], [*ASSESSMENTS, "c360_summary"])
            self.assertEqual(read["c360_health"], self.acme.c360_health)
            self.assertEqual(read["c360_summary"]["health"], self.acme.c360_health)
