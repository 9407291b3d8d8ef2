from odoo.tests import tagged

from .common import SupportCase

RAW = """Return-Path: <{sender}>
From: {name} <{sender}>
To: support@example.com
Subject: {subject}
Message-ID: <{message_id}>
Date: Mon, 16 Nov 2026 10:00:00 +0100
Content-Type: text/plain; charset=utf-8
MIME-Version: 1.0

{body}
"""


@tagged("post_install", "-at_install")
class TestMailGateway(SupportCase):
    def _process(self, sender, subject, message_id, name="Ann Buyer", body="Hello"):
        raw = RAW.format(sender=sender, name=name, subject=subject, message_id=message_id, body=body)
        thread_id = self.env["mail.thread"].message_process(
            "support.ticket", raw, custom_values={"team_id": self.team.id}
        )
        return self.env["support.ticket"].browse(thread_id)

    def test_email_opens_a_ticket_with_a_new_contact(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "m1@buyer.example")
        self.assertEqual(ticket.name, "Invoice is wrong")
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.channel, "email")
        self.assertEqual(ticket.partner_id.email, "ann@buyer.example")
        self.assertEqual(ticket.partner_id.name, "Ann Buyer")
        self.assertIn("Hello", ticket.message_ids[0].body)

    def test_known_sender_is_matched(self):
        ticket = self._process("claire@client-co.example", "Help", "m2@client.example", name="Claire")
        self.assertEqual(ticket.partner_id, self.contact)
        self.assertEqual(ticket.commercial_partner_id, self.customer)

    def test_unknown_sender_without_contact_creation(self):
        self.team.create_partner = False
        ticket = self._process("nobody@unknown.example", "Question", "m3@unknown.example")
        self.assertFalse(ticket.partner_id)
        self.assertEqual(ticket.partner_email, "nobody@unknown.example")

    def test_reply_without_headers_joins_by_reference_in_subject(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "m4@buyer.example")
        reply = self._process(
            "ann@buyer.example", f"Re: [{ticket.number}] Invoice is wrong", "m5@buyer.example", body="Any news?"
        )
        self.assertEqual(reply, ticket)
        self.assertEqual(self.env["support.ticket"].search_count([("partner_email", "=", "ann@buyer.example")]), 1)
        self.assertIn("Any news?", ticket.message_ids[0].body)
