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

    def _process_raw(self, raw):
        return self.env["mail.thread"].message_process("support.ticket", raw, custom_values={"team_id": self.team.id})

    def test_automatic_emails_open_no_ticket(self):
        Ticket = self.env["support.ticket"]
        cases = {
            "Auto-Submitted: auto-replied": "ooo1@buyer.example",
            "Auto-Submitted: auto-generated": "ooo2@buyer.example",
            "Precedence: bulk": "ooo3@buyer.example",
            "X-Autoreply: yes": "ooo4@buyer.example",
        }
        for header, message_id in cases.items():
            with self.subTest(header):
                raw = RAW.format(
                    sender="ann@buyer.example", name="Ann", subject="Out of office", message_id=message_id, body="Away"
                ).replace("MIME-Version: 1.0", f"MIME-Version: 1.0\n{header}")
                self._process_raw(raw)
                self.assertFalse(Ticket.search_count([("name", "=", "Out of office")]))
        # "Auto-Submitted: no" is a person writing
        raw = RAW.format(
            sender="ann@buyer.example", name="Ann", subject="Out of office", message_id="ooo5@x", body="Hi"
        ).replace("MIME-Version: 1.0", "MIME-Version: 1.0\nAuto-Submitted: no")
        self._process_raw(raw)
        self.assertEqual(Ticket.search_count([("name", "=", "Out of office")]), 1)

    def test_own_alias_never_opens_a_ticket(self):
        domain = self.env["mail.alias.domain"].create({"name": "care.example"})
        self.team.write({"alias_name": "care", "alias_domain_id": domain.id})
        self.assertEqual(self.team.alias_id.alias_full_name, "care@care.example")
        ticket = self._process("care@care.example", "Loop", "loop1@example.com", name="Support")
        self.assertFalse(ticket)
        self.assertFalse(self.env["support.ticket"].search_count([("name", "=", "Loop")]))

    def test_bounce_opens_no_ticket(self):
        self._process("MAILER-DAEMON@mx.example", "Undelivered Mail Returned to Sender", "bounce1@mx.example")
        self.assertFalse(self.env["support.ticket"].search_count([("name", "ilike", "Undelivered")]))

    def test_auto_reply_on_a_ticket_is_kept_but_does_not_count(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "m6@buyer.example")
        ticket.write({"stage_id": self.stage_waiting.id})
        raw = RAW.format(
            sender="ann@buyer.example",
            name="Ann",
            subject=f"Automatic reply: [{ticket.number}] Invoice is wrong",
            message_id="ooo6@buyer.example",
            body="I am away",
        ).replace("MIME-Version: 1.0", "MIME-Version: 1.0\nAuto-Submitted: auto-replied")
        self._process_raw(raw)
        self.assertIn("I am away", ticket.message_ids[0].body, "kept in the history")
        self.assertTrue(ticket.is_waiting, "an out-of-office reply does not bring the ticket back")
