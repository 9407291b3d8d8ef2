"""The lead scoring's ``sudo()``, run by the users they act for: what each one lets them reach.

A salesperson's edit rescores their lead with the manager's rules, models and thresholds,
which they may only read; the training and the daily rescoring cover every lead of every
company. Each test goes through the entry point the user has (an edit, a button, an RPC call)
as that user, and checks the engine did its work on their lead alone, with nothing more shown.
"""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import tagged

from .common import ScoringCase


@tagged("post_install", "-at_install")
class TestSudoSafetyScoring(ScoringCase):
    """A company model learned from closed leads (the web source wins), and the company's rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_closed_leads(200, seed=7)
        cls.Model = cls.env["crm.lead.scoring.model"]
        cls.Model._train_company(cls.company)
        Rule = cls.env["crm.lead.scoring.rule"]
        Rule.create({"name": "Big deal", "kind": "fit", "points": 20, "domain": "[('expected_revenue', '>=', 10000)]"})
        other_company = cls.env["res.company"].create({"name": "Other Scoring Sudo Co"})
        Rule.create(
            {
                "name": "Other company's rule",
                "kind": "fit",
                "points": 40,
                "domain": "[]",
                "company_id": other_company.id,
            }
        )

    def _lead(self, user, **values):
        return self.env["crm.lead"].create(
            {
                "name": f"Deal of {user.name}",
                "type": "opportunity",
                "user_id": user.id,
                "team_id": self.team.id,
                "source_id": self.source_web.id,
                "expected_revenue": 1000,
                **values,
            }
        )

    def test_a_salesperson_edit_rescores_their_own_lead_with_the_managers_configuration(self):
        """_scoring_rescore, _scoring_rule_results, _scoring_predictors, _scoring_names."""
        own, foreign = self._lead(self.salesman), self._lead(self.other_salesman)
        # a rule the manager adds later: whatever is rescored now shows it
        self.env["crm.lead.scoring.rule"].create({"name": "Everyone", "kind": "fit", "points": 5, "domain": "[]"})
        mine = own.with_user(self.salesman)
        mine.write({"expected_revenue": 20000})
        self.env.invalidate_all()
        # scored by the engine: the company's model and rules, which the salesperson only reads
        self.assertEqual(own.score_source, "blend")
        in_use = self.Model.search([("company_id", "=", self.company.id), ("state", "=", "active")])
        self.assertIn(own.score_model_id, in_use)
        html = str(mine.score_explanation_html)
        self.assertIn("Big deal", html)
        self.assertIn("Everyone", html)
        self.assertNotIn("Other company", html, "another company's rules never score this company's leads")
        # the explanation names the source as the lead's own field shows it to them, no more
        source_name = mine.read(["source_id"])[0]["source_id"][1]
        self.assertIn(source_name, html)
        with self.assertRaises(AccessError):
            mine.read(["score_explanation"])
        # the other salesperson's lead was not rescored, and stays out of reach
        self.assertFalse(any(factor["label"] == "Everyone" for factor in foreign.score_explanation))
        with self.assertRaises(AccessError):
            foreign.with_user(self.salesman).read(["score"])
        with self.assertRaises(AccessError):
            foreign.with_user(self.salesman).action_scoring_recompute()
        self.assertFalse(any(factor["label"] == "Everyone" for factor in foreign.score_explanation))


@tagged("post_install", "-at_install")
class TestSudoSafetyJobs(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead.scoring.rule"].create(
            {"name": "Big deal", "kind": "fit", "points": 80, "domain": "[('expected_revenue', '>=', 10000)]"}
        )
        cls.hot_tag = cls.env["crm.tag"].create({"name": "Hot (sudo)"})
        cls.senior = cls.other_salesman  # the salesperson hot leads are handed over to
        cls.threshold = cls.env["crm.lead.scoring.threshold"].create(
            {
                "name": "Hand over hot leads",
                "trigger": "grade",
                "grade": "A",
                "assign_user_id": cls.senior.id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "activity_summary": "Call the hot lead",
                "tag_ids": [(6, 0, cls.hot_tag.ids)],
            }
        )

    def test_a_threshold_crossed_by_a_salesperson_edit_runs_only_the_configured_actions(self):
        """_scoring_fire_thresholds: the manager's automation, on the lead that crossed, and nothing more."""
        Lead = self.env["crm.lead"]
        own = Lead.create({"name": "Small", "user_id": self.salesman.id, "expected_revenue": 100})
        foreign = Lead.create({"name": "Theirs", "user_id": self.senior.id, "expected_revenue": 100})
        self.assertEqual((own.score_grade, foreign.score_grade), ("D", "D"))
        own.with_user(self.salesman).write({"expected_revenue": 50000})
        self.env.invalidate_all()
        self.assertEqual(own.score_grade, "A")
        self.assertEqual(own.user_id, self.senior)
        self.assertIn(self.hot_tag, own.tag_ids)
        self.assertEqual(own.activity_ids.user_id, self.senior)
        self.assertTrue(any("Hand over hot leads" in (message.body or "") for message in own.message_ids))
        # the handover took the lead out of the salesperson's reach: the engine's rights did not stay with them
        with self.assertRaises(AccessError):
            own.with_user(self.salesman).read(["name"])
        self.assertFalse(foreign.tag_ids or foreign.activity_ids, "nothing fired on a lead that crossed nothing")
        with self.assertRaises(AccessError):
            self.threshold.with_user(self.salesman).write({"assign_user_id": self.salesman.id})

    def test_the_training_and_rescoring_jobs_are_beyond_a_salespersons_reach(self):
        """_cron_train, _scoring_closed_lead_ids, _scoring_batch_size, _has_enough_history."""
        for model, method, args in (
            ("crm.lead.scoring.model", "_cron_train", []),
            ("crm.lead.scoring.model", "_has_enough_history", [self.company.id]),
            ("crm.lead", "_scoring_closed_lead_ids", [self.company.id]),
            ("crm.lead", "_scoring_rescore_all", []),
            ("crm.lead", "_scoring_start_rescoring", []),
            ("crm.lead", "_scoring_batch_size", []),
            ("crm.lead", "_cron_rescore", []),
            ("crm.lead", "_cron_score_pending", []),
        ):
            for user in (self.salesman, self.manager):
                with self.subTest(method=method, user=user.login), self.assertRaises(AccessError):
                    call_kw(self.env[model].with_user(user), method, args, {})
        cron = self.env.ref("crm_lead_scoring.ir_cron_scoring_train")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search([("cron_id", "=", cron.id)])
        Model = self.env["crm.lead.scoring.model"]
        with self.assertRaisesRegex(UserError, "Only sales managers"):
            Model.with_user(self.salesman).action_train_now()
        # a manager's press counts the closed leads, says only that there are not enough, trains nothing
        with self.assertRaisesRegex(UserError, "Not enough closed leads"):
            Model.with_user(self.manager).action_train_now()
        self.assertEqual(Trigger.search([("cron_id", "=", cron.id)]), before, "no training job asked for")
        self.assertFalse(Model.search([("state", "=", "active")]))


@tagged("post_install", "-at_install")
class TestSudoSafetyCaches(ScoringCase):
    """What the scoring caches for every user (the fields that queue a rescoring, the companies
    whose score drives the probability) is the same whoever fills it first."""

    def test_the_caches_a_salesperson_fills_cover_every_company(self):
        """_scoring_trigger_fields_cached, _scoring_driving_company_ids, _scoring_scalar_field_names."""
        company_b = self.env["res.company"].create({"name": "Driving Scoring Co", "scoring_drives_probability": True})
        # the other company's model learns a field this company's does not
        website = self.env["ir.model.fields"]._get("crm.lead", "website")
        company_b.scoring_field_ids = [Command.set(website.ids)]
        self.env["crm.lead.scoring.rule"].create(
            {
                "name": "Has a website",
                "kind": "fit",
                "points": 30,
                "domain": "[('website', '!=', False)]",
                "company_id": company_b.id,
            }
        )
        own = self.env["crm.lead"].create({"name": "Mine", "user_id": self.salesman.id})
        # a salesperson of this company alone is the first to need both caches
        self.env.registry.clear_cache()
        own.with_user(self.salesman).write({"expected_revenue": 20000})
        self.assertNotEqual(own.probability, own.score, "this company keeps Odoo's probability")
        self.assertIn(
            "website",
            self.env["crm.lead"]._scoring_scalar_field_names(),
            "the fields read with the facts of every company's leads, whoever filled the cache",
        )
        lead_b = self.env["crm.lead"].with_company(company_b).create({"name": "Theirs", "company_id": company_b.id})
        self.assertEqual(lead_b.probability, lead_b.score, "the other company's score drives its probability")
        lead_b.with_company(company_b).write({"website": "https://buyer.example"})
        self.assertEqual(lead_b.score, 30, "the other company's rule field queues its leads' rescoring")
        self.assertEqual(lead_b.probability, 30)
        # ... and nothing of the other company for the salesperson
        with self.assertRaises(AccessError):
            lead_b.with_user(self.salesman).read(["score"])
        self.assertFalse(
            self.env["crm.lead.scoring.rule"].with_user(self.salesman).search([("company_id", "=", company_b.id)])
        )
