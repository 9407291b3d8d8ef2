import re

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.support_ticket import DESCRIPTION_MAX_LENGTH, SUBJECT_MAX_LENGTH


@tagged("post_install", "-at_install")
class TestSupportPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(cls.env, "sdp_agent", groups="support_desk.group_support_user")
        cls.team = cls.env["support.team"].create(
            {"name": "Portal Care", "sequence": 0, "member_ids": [Command.set(cls.agent.ids)]}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Portal Client Co", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Paula Portal", "email": "paula@portal-client.example", "parent_id": cls.customer.id}
        )
        cls.portal_user = new_test_user(
            cls.env,
            "sdp_portal",
            groups="base.group_portal",
            partner_id=cls.contact.id,
            email=cls.contact.email,
            password="sdp_portal_pw",
        )
        cls.colleague = cls.env["res.partner"].create({"name": "Colleague", "parent_id": cls.customer.id})
        cls.stranger = cls.env["res.partner"].create({"name": "Stranger Inc", "is_company": True})
        Ticket = cls.env["support.ticket"]
        cls.ours = Ticket.create({"name": "Our printer jams", "team_id": cls.team.id, "partner_id": cls.colleague.id})
        cls.theirs = Ticket.create({"name": "Their secret", "team_id": cls.team.id, "partner_id": cls.stranger.id})

    def setUp(self):
        super().setUp()
        self.authenticate("sdp_portal", "sdp_portal_pw")

    def _post(self, url, data):
        """POST a portal form with the session's CSRF token, as the browser does."""
        form = self.url_open("/my/tickets/new").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        return self.url_open(url, data={**data, "csrf_token": token})

    def test_list_shows_the_company_tickets_only(self):
        response = self.url_open("/my/tickets?filterby=all")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.ours.number, response.text)
        self.assertNotIn(self.theirs.number, response.text)

    def test_other_company_ticket_is_refused(self):
        response = self.url_open(f"/my/tickets/{self.theirs.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my"))
        self.assertEqual(self.url_open(f"/my/tickets/{self.ours.id}").status_code, 200)

    def test_open_a_ticket_from_the_portal(self):
        response = self._post("/my/tickets/new", {"subject": "", "description": "Nothing works"})
        self.assertIn("Say in a few words", response.text)
        self.assertFalse(self.env["support.ticket"].search([("description", "ilike", "Nothing works")]))
        response = self._post("/my/tickets/new", {"subject": "Cannot log in", "description": "Since this morning"})
        ticket = self.env["support.ticket"].search([("name", "=", "Cannot log in")])
        self.assertEqual(len(ticket), 1)
        self.assertEqual((ticket.partner_id, ticket.channel, ticket.team_id), (self.contact, "portal", self.team))
        self.assertIn(self.contact, ticket.message_partner_ids)
        self.assertIn(ticket.number, response.text)

    def test_huge_description_is_refused_with_a_message(self):
        description = "My printer prints this line again and again.\n" * 24_000
        self.assertGreater(len(description), 1_000_000)
        response = self._post("/my/tickets/new", {"subject": "Printer loops", "description": description})
        self.assertEqual(response.status_code, 200)
        self.assertIn("The description is too long", response.text)
        self.assertIn(f"at most {DESCRIPTION_MAX_LENGTH}", response.text)
        self.assertFalse(self.env["support.ticket"].search_count([("name", "=", "Printer loops")]), "nothing created")

    def test_long_subject_is_refused_and_limits_hold_on_the_server(self):
        subject = "Printer " * 50
        self.assertGreater(len(subject), SUBJECT_MAX_LENGTH)
        response = self._post("/my/tickets/new", {"subject": subject, "description": "It jams"})
        self.assertIn("The subject is too long", response.text)
        self.assertFalse(self.env["support.ticket"].search_count([("description", "ilike", "It jams")]))
        # the model refuses too, whoever calls it
        Ticket = self.env["support.ticket"].with_user(self.portal_user)
        with self.assertRaisesRegex(UserError, "The description is too long"):
            Ticket._portal_create_ticket("Printer", "x" * (DESCRIPTION_MAX_LENGTH + 1))
        ticket = Ticket._portal_create_ticket("Printer", "y" * DESCRIPTION_MAX_LENGTH)
        self.assertEqual(ticket.partner_id, self.contact, "the longest description allowed is taken")

    def test_close_then_rate(self):
        self.ours.partner_id = self.contact
        self._post(f"/my/tickets/{self.ours.id}/close", {})
        self.assertTrue(self.ours.is_closed)
        self.assertTrue(any("Closed by the customer" in message.body for message in self.ours.message_ids))
        page = self.url_open(f"/my/tickets/{self.ours.id}")
        self.assertIn("/rate/", page.text)
        token = self.ours.rating_ids.access_token
        self.assertTrue(token)
        self.ours.rating_apply(5, token=token)
        self.assertEqual(self.ours.rating_last_value, 5)
        self.assertNotIn("/rate/", self.url_open(f"/my/tickets/{self.ours.id}").text, "rated once")

    def test_closing_someone_else_ticket_is_refused(self):
        self._post(f"/my/tickets/{self.theirs.id}/close", {})
        self.assertFalse(self.theirs.is_closed)

    def test_customer_replies_in_the_chatter(self):
        self.ours.with_user(self.portal_user).message_post(
            body="Still jammed", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertIn("Still jammed", self.ours.message_ids[0].body)
        self.assertEqual(self.ours.message_ids[0].author_id, self.contact)
