import json
from collections import Counter
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import html2plaintext

from odoo.addons.suite_batch_job.tests.common import call_cron, call_cron_to_end

from .common import Customer360Common

CRON = "crm_customer_360.ir_cron_c360_health"


@tagged("post_install", "-at_install")
class TestCustomerHealth(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.today = fields.Date.context_today(cls.env.user)
        (cls.acme | cls.other).customer_rank = 1
        cls.acme.user_id = cls.salesman
        # Four orders of 100 in the period before (170 to 110 days ago), one in the last 90 days.
        for days in (170, 150, 130, 110, 60):
            order = cls.make_order(cls.ann, 1)
            order.date_order = cls.now - timedelta(days=days)
        # Three invoices fell due this year: one unpaid, one paid after its due date, one before.
        cls.unpaid = cls.make_invoice(cls.acme, 150.0, -10)
        paid_late = cls.make_invoice(cls.acme, 80.0, -20)
        paid_on_time = cls.make_invoice(cls.acme, 60.0, -5)
        for invoice, paid_on in ((paid_late, cls.today), (paid_on_time, cls.today - timedelta(days=10))):
            cls.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"payment_date": paid_on})._create_payments()
        cls.make_ticket(cls.ann)

    def test_the_facts_are_those_of_the_documents(self):
        facts = self.env["res.partner"]._c360_health_facts([self.acme.id], self.now)[self.acme.id]
        self.assertAlmostEqual(facts["revenue_recent"], 100.0)
        self.assertAlmostEqual(facts["revenue_before"], 400.0)
        self.assertEqual((facts["orders_recent"], facts["orders_before"]), (1, 4))
        self.assertAlmostEqual(facts["days_since_order"], 60.0, places=2)
        # Five orders over 110 days: one every 27.5 days.
        self.assertAlmostEqual(facts["rhythm_days"], 27.5, places=2)
        self.assertEqual((facts["invoices_due"], facts["invoices_late"]), (3, 2))
        self.assertAlmostEqual(facts["overdue_amount"], 150.0)
        self.assertEqual(facts["tickets_open"], 1)
        self.assertEqual(self.env["res.partner"]._c360_health_facts([self.other.id], self.now)[self.other.id], {})

    def test_a_falling_customer_gets_a_retention_activity_with_the_reasons(self):
        self.acme._c360_measure_health(self.now)
        # Revenue -75%: 22 points; orders 4 -> 1: 8; 60 days for a 27.5-day rhythm: 10;
        # 2 of 3 invoices late: 13; overdue: 5; one open ticket: 2.
        self.assertEqual(self.acme.c360_health, 100 - (22 + 8 + 10 + 13 + 5 + 2))
        self.assertEqual(self.acme.c360_health_trend, "down")
        self.assertTrue(self.acme.c360_churn_risk)
        self.assertIn("Revenue down 75%", self.acme.c360_health_reasons)
        activity = self.acme.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("crm_customer_360.mail_activity_type_retention")
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("below the churn-risk threshold of 50", activity.summary)
        self.assertIn("Revenue down 75%", activity.note)
        self.assertIn("below the churn-risk threshold", self.acme.message_ids[:1].body)
        # Measured again the next day: still at risk, but no second activity.
        self.acme._c360_measure_health(self.now + timedelta(days=1))
        self.assertEqual(len(self.acme.activity_ids), 1)

    def test_without_a_salesperson_the_chatter_keeps_the_warning(self):
        self.acme.user_id = False
        self.acme._c360_measure_health(self.now)
        self.assertTrue(self.acme.c360_churn_risk)
        self.assertFalse(self.acme.activity_ids)
        self.assertIn("below the churn-risk threshold", self.acme.message_ids[:1].body)

    def test_a_healthy_customer_gets_no_activity(self):
        self.other._c360_measure_health(self.now)
        self.assertEqual(self.other.c360_health, 100)
        self.assertFalse(self.other.c360_churn_risk)
        self.assertFalse(self.other.activity_ids)
        self.assertFalse(self.other.c360_health_reasons)

    def test_the_threshold_of_the_settings_decides_the_risk(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_customer_360.health_threshold", 30)
        self.unpaid.button_draft()
        self.unpaid.button_cancel()
        self.acme._c360_measure_health(self.now)
        self.assertGreater(self.acme.c360_health, 30)
        # Not below 30, but buying less: the downward trend alone asks for a retention action.
        self.assertTrue(self.acme.c360_churn_risk)
        self.assertIn("Buying trend turned down", self.acme.activity_ids.summary)

    def test_the_cron_measures_every_customer_once_a_day_in_batches(self):
        measured = self.env["res.partner"]._cron_c360_health(batch_size=2, commit=False)
        self.assertGreaterEqual(measured, 2)
        self.assertTrue(self.acme.c360_health_date and self.other.c360_health_date)
        self.assertEqual(self.env["res.partner"]._cron_c360_health(batch_size=2, commit=False), 0)
        self.assertFalse(self.ann.c360_health_date, "contacts are measured through their company")

    def test_queries_do_not_grow_with_the_number_of_customers(self):
        healthy = self.env["res.partner"].create([{"name": f"Fine {i}", "is_company": True} for i in range(6)])

        def count(partners):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            partners._c360_measure_health(self.now)
            return self.env.cr.sql_log_count - before

        count(healthy[:1])  # warms the caches (settings, languages)
        self.assertEqual(count(healthy[1:3]), count(healthy[3:]))

    def test_each_company_measures_its_customer_from_its_own_documents(self):
        """A customer shared by two companies: what the second one sells, invoices and supports
        does not leak into the health the first one's users read, and the other way round."""
        Partner = self.env["res.partner"]
        facts_a = Partner._c360_health_facts([self.acme.id], self.now)[self.acme.id]
        company_b = self.setup_other_company(name="C360 Second Company")["company"]
        for days in (20, 10):
            order = self.make_order(self.ann, 5, company=company_b)
            order.date_order = self.now - timedelta(days=days)
        self.make_invoice(self.acme, 900.0, -15, company=company_b)
        team_b = self.env["support.team"].create({"name": "Help B", "company_id": company_b.id})
        for _ in range(3):
            self.make_ticket(self.ann, team_id=team_b.id, company_id=company_b.id)

        self.assertEqual(Partner._c360_health_facts([self.acme.id], self.now)[self.acme.id], facts_a)
        facts_b = Partner.with_company(company_b)._c360_health_facts([self.acme.id], self.now)[self.acme.id]
        self.assertEqual((facts_b["orders_recent"], facts_b["invoices_due"], facts_b["tickets_open"]), (2, 1, 3))
        self.assertAlmostEqual(facts_b["overdue_amount"], 900.0)

        measured = Partner._cron_c360_health(commit=False)
        self.assertGreaterEqual(measured, 2, "the customer is measured in each company")
        user_a = new_test_user(self.env, "c360_health_a", groups="base.group_user", company_id=self.company.id)
        user_b = new_test_user(
            self.env,
            "c360_health_b",
            groups="base.group_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        seen_a = self.acme.with_user(user_a)
        seen_b = self.acme.with_user(user_b)
        self.assertIn("Revenue down 75%", seen_a.c360_health_reasons)
        self.assertIn("1 tickets open.", seen_a.c360_health_reasons)
        self.assertNotIn("Revenue down", seen_b.c360_health_reasons)
        self.assertIn("3 tickets open.", seen_b.c360_health_reasons)
        self.assertNotEqual(seen_a.c360_health, seen_b.c360_health)
        self.assertTrue(seen_a.c360_churn_risk)
        self.assertEqual(
            Partner.with_user(user_a).search([("id", "=", self.acme.id), ("c360_churn_risk", "=", True)]), self.acme
        )


@tagged("post_install", "-at_install")
class TestCustomerHealthJob(Customer360Common):
    """The nightly job as ir.cron calls it, each call with its budget spent: it measures a batch
    and says what is left, the next call resumes there, and nothing is measured twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="C360 Job Company")["company"]
        Partner = cls.env["res.partner"]
        # three customers shared by every company, two of the second company only
        cls.shared = Partner.create([{"name": f"Shared {i}", "is_company": True, "customer_rank": 1} for i in range(3)])
        cls.own_b = Partner.create(
            [
                {"name": f"B only {i}", "is_company": True, "customer_rank": 1, "company_id": cls.company_b.id}
                for i in range(2)
            ]
        )
        cls.customers = cls.shared | cls.own_b
        cls.companies = cls.env["res.company"].search([], order="id")  # pylint: disable=no-search-all
        # every first measure leaves a note in the customer's chatter, one per company
        cls.env["ir.config_parameter"].set_param("crm_customer_360.health_threshold", 101)
        cls.env["ir.config_parameter"].set_param("crm_customer_360.health_batch_size", 2)
        cls.cron = cls.env.ref(CRON)

    def _only_ours_due(self, now):
        """Every other customer of the database (the demo's) is measured already, in every company."""
        self.env.flush_all()
        measured = json.dumps({str(company.id): now.isoformat() for company in self.companies})
        self.env.cr.execute(
            "UPDATE res_partner SET c360_health_date = %s::jsonb WHERE id != ALL(%s)", [measured, self.customers.ids]
        )
        self.env.invalidate_all()

    def _measures(self):
        """``{(company id, customer id): measured on}`` for our customers."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT key::int, p.id, value::timestamp FROM res_partner p, jsonb_each_text(p.c360_health_date)"
            " WHERE p.id = ANY(%s) AND value IS NOT NULL",
            [self.customers.ids],
        )
        return {(company_id, pid): when for company_id, pid, when in self.env.cr.fetchall()}

    def _notes(self):
        """How many health notes each (company, customer) got in the chatter."""
        notes = Counter()
        messages = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.customers.ids), ("body", "ilike", "churn-risk")]
        )
        for message in messages:
            text = html2plaintext(message.body)
            for company in self.companies:
                if text.startswith(f"{company.name}: Health"):
                    notes[company.id, message.res_id] += 1
        return notes

    def _one_batch_a_call(self, due):
        """What each call of the job should report, ``(done, remaining)``: two customers a call,
        of one company a call (the first, by id, that has some due)."""
        expected, left = [], len(due)
        for company in self.companies:
            here = sum(1 for company_id, _pid in due if company_id == company.id)
            while here:
                done = min(2, here)
                here -= done
                left -= done
                expected.append((done, left))
        return expected

    def _due(self):
        due = {(company.id, pid) for company in self.companies for pid in self.shared.ids}
        return due | {(self.company_b.id, pid) for pid in self.own_b.ids}

    def test_each_call_measures_a_batch_and_the_next_one_resumes(self):
        start = datetime(2026, 3, 2, 9, 0)
        self._only_ours_due(start)
        due = self._due()
        self.assertEqual(len(due), 3 * len(self.companies) + 2)
        calls = []
        for minute in range(100):
            # each call at its own minute of the same day: a measure's date tells which call made it
            with freeze_time(start + timedelta(minutes=minute)):
                calls.append(call_cron(self, self.cron))
            if not calls[-1][1]:
                break
        # (a) one batch a call, each resuming where the last one stopped, (b) down to nothing left
        self.assertEqual(calls, self._one_batch_a_call(due))
        with freeze_time(start + timedelta(minutes=len(calls))):
            self.assertEqual(call_cron(self, self.cron), (0, 0), "nothing left: the job says so")
        # (c) every due measure made once: by one call, one note each
        measures = self._measures()
        self.assertEqual(set(measures), due, "each customer measured in each company it is due in")
        by_call = Counter(int((when - start).total_seconds() // 60) for when in measures.values())
        self.assertEqual([by_call[index] for index in range(len(calls))], [done for done, _left in calls])
        self.assertEqual(self._notes(), Counter(dict.fromkeys(due, 1)), "one note per customer and company")
        # the companies in a stable order: a call measures in one company, the first that has some
        companies_by_call = {}
        for (company_id, _pid), when in measures.items():
            companies_by_call.setdefault(int((when - start).total_seconds() // 60), set()).add(company_id)
        order = [companies_by_call[index] for index in range(len(calls))]
        self.assertTrue(all(len(companies) == 1 for companies in order), order)
        self.assertEqual([min(companies) for companies in order], sorted(min(companies) for companies in order))

    def test_a_customer_measured_before_utc_midnight_is_not_due_again_in_an_eastern_day(self):
        """The job's user is in Tokyo: at 20:00 UTC it is already the next day there. A measure dated
        20:00 UTC is of that day: the customers measured do not come back in the next batch."""
        self.assertEqual(self.cron.user_id, self.env.ref("base.user_root"))
        self.cron.user_id.tz = "Asia/Tokyo"
        # sudo: counted in every company, as the job does, whichever companies the test user has
        Partner = self.env["res.partner"].sudo().with_context(tz="Asia/Tokyo")
        late = datetime(2026, 3, 2, 20, 0)
        self._only_ours_due(late)
        with freeze_time(late):
            self.assertEqual(call_cron_to_end(self, self.cron), self._one_batch_a_call(self._due()))
            self.assertEqual(Partner._c360_health_due_count(self.companies), 0)
        self.assertEqual(self._notes(), Counter(dict.fromkeys(self._measures(), 1)))
        # the next day in Tokyo starts at 15:00 UTC: ours are due again
        next_day = late + timedelta(hours=19, minutes=1)
        self._only_ours_due(next_day)
        with freeze_time(next_day):
            self.assertEqual(Partner._c360_health_due_count(self.companies), len(self._due()))
