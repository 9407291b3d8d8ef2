import logging
import time

from odoo import Command
from odoo.tests import tagged

from ..models.support_ticket import SUBJECT_MAX_LENGTH, SUBJECT_SCAN_LENGTH
from .common import SupportCase, run_migration

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


class MailGatewayCase(SupportCase):
    """Emails fed to the gateway as a team's alias would receive them."""

    def _process(self, sender, subject, message_id, name="Ann Buyer", body="Hello", team=None, headers=""):
        raw = RAW.format(sender=sender, name=name, subject=subject, message_id=message_id, body=body)
        if headers:
            raw = raw.replace("MIME-Version: 1.0", f"MIME-Version: 1.0\n{headers}")
        thread_id = self.env["mail.thread"].message_process(
            "support.ticket", raw, custom_values={"team_id": (team or self.team).id}
        )
        return self.env["support.ticket"].browse(thread_id)


@tagged("post_install", "-at_install")
class TestMailGateway(MailGatewayCase):
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


@tagged("post_install", "-at_install")
class TestMailTrust(MailGatewayCase):
    """Who an email reaches and whom it joins: the customer follows, a stranger opens their own ticket."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = cls.env["res.partner"].create(
            {"name": "Carl Colleague", "email": "carl@client-co.example", "parent_id": cls.customer.id}
        )

    def _mails_to(self, partner, ticket):
        """The outgoing mails about ``ticket`` that go to ``partner``."""
        return self.env["mail.mail"].search(
            [("model", "=", "support.ticket"), ("res_id", "=", ticket.id), ("recipient_ids", "in", partner.ids)]
        )

    def _reply_by_agent(self, ticket, **kwargs):
        return ticket.with_user(self.agent).message_post(
            body="We fixed it.", message_type="comment", subtype_xmlid="mail.mt_comment", **kwargs
        )

    # ------------------------------------------------------------------
    # Item 1: joining by the reference in the subject
    # ------------------------------------------------------------------

    def test_stranger_with_the_reference_opens_a_new_ticket(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "t1@buyer.example")
        ticket.stage_id = self.stage_waiting
        messages = ticket.message_ids
        with self.assertLogs("odoo.addons.support_desk.models.support_ticket", logging.INFO) as logs:
            other = self._process(
                "someone@other.example", f"Re: [{ticket.number}] Invoice is wrong", "t2@other.example", body="Pay me"
            )
        self.assertTrue(other)
        self.assertNotEqual(other, ticket, "a new ticket")
        self.assertEqual(other.partner_id, self.stranger)
        self.assertIn("Pay me", other.message_ids[0].body)
        self.assertEqual(ticket.message_ids, messages, "nothing posted on the customer's ticket")
        self.assertTrue(ticket.is_waiting, "the stranger's mail does not bring the ticket back")
        self.assertFalse(self._mails_to(ticket.partner_id, ticket), "nothing forwarded to its customer")
        self.assertIn(ticket.number, logs.output[0])
        self.assertIn("someone@other.example", logs.output[0])

    def test_colleague_follower_and_internal_user_join(self):
        ticket = self._process("claire@client-co.example", "Printer jams", "t3@client-co.example", name="Claire")
        self.assertEqual(ticket.partner_id, self.contact)
        follower = self.env["res.partner"].create({"name": "Reseller", "email": "rita@reseller.example"})
        ticket.message_subscribe(partner_ids=follower.ids)
        senders = {
            "the customer": "claire@client-co.example",
            "a contact of the same company": "carl@client-co.example",
            "a follower": "rita@reseller.example",
            "an internal user of the company": self.agent.email,
        }
        for index, (who, sender) in enumerate(senders.items()):
            with self.subTest(who):
                joined = self._process(sender, f"RE: [{ticket.number}] Printer jams", f"t4.{index}@x.example")
                self.assertEqual(joined, ticket)
        self.assertEqual(len(self.env["support.ticket"].search([("name", "ilike", "Printer jams")])), 1)

    def test_internal_user_of_another_company_does_not_join(self):
        other_company = self.env["res.company"].create({"name": "Sister Co"})
        outsider = self.env["res.users"].create(
            {
                "name": "Olga Outsider",
                "login": "sd_olga",
                "email": "olga@sister.example",
                "company_id": other_company.id,
                "company_ids": [Command.set(other_company.ids)],
            }
        )
        self.assertFalse(outsider.share)
        ticket = self._process("claire@client-co.example", "Printer jams", "t5@client-co.example", name="Claire")
        other = self._process("olga@sister.example", f"[{ticket.number}] Printer jams", "t6@sister.example")
        self.assertNotEqual(other, ticket)

    def test_alias_of_another_company_opens_a_new_ticket(self):
        other_company = self.env["res.company"].create({"name": "Sister Co"})
        sister_team = self.env["support.team"].create({"name": "Sister care", "company_id": other_company.id})
        ticket = self._process("claire@client-co.example", "Printer jams", "t7@client-co.example", name="Claire")
        other = self._process(
            "claire@client-co.example", f"Re: [{ticket.number}] Printer jams", "t8@client-co.example", team=sister_team
        )
        self.assertNotEqual(other, ticket)
        self.assertEqual((other.team_id, other.company_id), (sister_team, other_company))

    def test_stranger_auto_reply_with_the_reference_is_dropped(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "t9@buyer.example")
        messages = ticket.message_ids
        self._process(
            "someone@other.example",
            f"Automatic reply: [{ticket.number}] Invoice is wrong",
            "t10@other.example",
            body="I am away",
            headers="Auto-Submitted: auto-replied",
        )
        self.assertEqual(ticket.message_ids, messages, "not kept on a ticket it does not belong to")
        self.assertFalse(self.env["support.ticket"].search_count([("partner_id", "=", self.stranger.id)]))

    # ------------------------------------------------------------------
    # Item 2: the customer receives what is meant for them, and only they do
    # ------------------------------------------------------------------

    def test_customer_by_email_follows_and_receives_public_replies(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "t11@buyer.example")
        customer = ticket.partner_id
        self.assertIn(customer, ticket.message_partner_ids)
        self.assertFalse(self._mails_to(customer, ticket), "their own mail is not sent back to them")
        message = self._reply_by_agent(ticket)
        mail = self._mails_to(customer, ticket)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.mail_message_id, message)
        self.assertEqual(mail.recipient_ids.email, "ann@buyer.example")
        self.assertIn(f"[{ticket.number}]", mail.subject)

    def test_reply_with_its_own_subject_keeps_the_reference(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "t12@buyer.example")
        self._reply_by_agent(ticket, subject="Your credit note")
        mail = self._mails_to(ticket.partner_id, ticket)
        self.assertTrue(mail.subject.startswith(f"[{ticket.number}]"), mail.subject)
        self.assertIn("Your credit note", mail.subject)

    def test_internal_note_never_reaches_the_customer(self):
        ticket = self._process("ann@buyer.example", "Invoice is wrong", "t13@buyer.example")
        agent_ticket = ticket.with_user(self.agent)
        agent_ticket.message_post(body="Looks like a fraud.", message_type="comment", subtype_xmlid="mail.mt_note")
        agent_ticket.message_post(
            body="Even named.", message_type="comment", subtype_xmlid="mail.mt_note", partner_ids=ticket.partner_id.ids
        )
        self.assertFalse(self._mails_to(ticket.partner_id, ticket))
        notified = self.env["mail.notification"].search([("mail_message_id", "in", ticket.message_ids.ids)])
        self.assertNotIn(ticket.partner_id, notified.res_partner_id)

    def test_customer_set_by_hand_or_changed_follows(self):
        ticket = self._ticket(partner_id=self.contact.id)
        self.assertIn(self.contact, ticket.message_partner_ids)
        ticket.partner_id = self.colleague
        self.assertIn(self.colleague, ticket.message_partner_ids)
        self.assertIn(self.contact, ticket.message_partner_ids, "a colleague of the new customer keeps following")
        ticket.partner_id = self.stranger
        self.assertIn(self.stranger, ticket.message_partner_ids)
        self.assertFalse(
            (self.contact | self.colleague) & ticket.message_partner_ids,
            "the customer company the ticket was wrongly filed under stops following",
        )

    def test_upgrade_makes_the_customers_of_earlier_tickets_follow(self):
        ticket = self._ticket(partner_id=self.contact.id)
        closed = self._ticket(partner_id=self.colleague.id, stage_id=self.stage_solved.id)
        (ticket | closed).message_unsubscribe(partner_ids=(self.contact | self.colleague).ids)  # as 1.2.0 left them
        run_migration(self.env, "19.0.1.2.1", "19.0.1.2.0")
        self.assertIn(self.contact, ticket.message_partner_ids)
        self.assertIn(self.colleague, closed.message_partner_ids, "a customer may answer a closed ticket too")

    def test_suggested_recipients_are_the_customer_only(self):
        ticket = self._process(
            "ann@buyer.example",
            "Invoice is wrong",
            "t14@buyer.example",
            headers="Cc: Bob Boss <bob@buyer.example>, Eve <eve@elsewhere.example>",
        )
        ticket.user_id = self.agent_2
        self.assertTrue(ticket.email_cc, "the copies are kept on the ticket")
        stranger_mail = self.env["mail.message"].create(
            {
                "model": "support.ticket",
                "res_id": ticket.id,
                "message_type": "email",
                "subtype_id": self.env.ref("mail.mt_comment").id,
                "author_id": self.stranger.id,
                "email_from": self.stranger.email,
                "incoming_email_cc": "mallory@elsewhere.example",
                "body": "Me too",
            }
        )
        for kwargs in ({"reply_discussion": True}, {"reply_message": stranger_mail}):
            with self.subTest(**{key: bool(value) for key, value in kwargs.items()}):
                suggested = ticket._message_get_suggested_recipients(**kwargs)
                self.assertEqual([recipient["email"] for recipient in suggested], ["ann@buyer.example"])
                self.assertEqual(suggested[0]["partner_id"], ticket.partner_id.id)

    # ------------------------------------------------------------------
    # Item 7: input that costs time is bounded
    # ------------------------------------------------------------------

    def test_reference_is_searched_at_the_subject_start_only(self):
        ticket = self._ticket(partner_id=self.contact.id)
        Ticket = self.env["support.ticket"]
        self.assertEqual(Ticket._support_ticket_from_subject(f"Re: [{ticket.number}] " + "x" * 1_000_000), ticket)
        self.assertFalse(Ticket._support_ticket_from_subject("x" * SUBJECT_SCAN_LENGTH + f"[{ticket.number}]"))
        self.assertFalse(Ticket._support_ticket_from_subject("[TCK/" + "1" * 100_000 + "]"))

    def test_huge_subject_and_body_open_a_ticket_quickly(self):
        subject = "Help " * 2_000
        body = ("All my invoices are wrong since the update, please check. " * 16 + "\n") * 1_100
        self.assertGreater(len(body), 1_000_000)
        start = time.perf_counter()
        ticket = self._process("ann@buyer.example", subject, "t15@buyer.example", body=body)
        elapsed = time.perf_counter() - start
        self.assertTrue(ticket)
        self.assertLessEqual(len(ticket.name), SUBJECT_MAX_LENGTH)
        self.assertTrue(ticket.name.startswith("Help Help"))
        self.assertIn("All my invoices", ticket.message_ids[0].body)
        self.assertLess(elapsed, 3.0, f"{elapsed:.2f} s for a 1 MB email")
