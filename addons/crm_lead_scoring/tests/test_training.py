from unittest.mock import patch

import numpy as np

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.suite_batch_job import batch

from ..engine import metrics
from ..engine import model as learning
from .common import ScoringCase


@tagged("post_install", "-at_install")
class TestTraining(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leads, cls.won = cls._make_closed_leads(300, seed=11)
        cls.rule = cls.env["crm.lead.scoring.rule"].create(
            {
                "name": "Big deal",
                "kind": "fit",
                "points": 50,
                "domain": "[('expected_revenue', '>=', 10000)]",
            }
        )
        cls.Model = cls.env["crm.lead.scoring.model"]
        cls.open_stage = cls.env["crm.stage"].search([("is_won", "=", False)], limit=1)

    def test_training_learns_and_blends(self):
        models = self.Model._train_company(self.company)
        company_model = models.filtered(lambda m: not m.team_id)
        self.assertEqual(company_model.state, "active")
        closed = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search_count([("company_id", "=", self.company.id), ("won_status", "in", ("won", "lost"))])
        )
        self.assertGreaterEqual(closed, 300)
        self.assertEqual(company_model.won_count + company_model.lost_count, closed)
        self.assertGreater(company_model.auc, 0.7)
        self.assertTrue(company_model.calibration and company_model.lift)
        self.assertIn("Source", company_model.features_summary)

        web = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id, "team_id": self.team.id})
        fair = self.env["crm.lead"].create({"name": "Fair", "source_id": self.source_fair.id, "team_id": self.team.id})
        self.assertEqual(web.score_source, "blend")
        self.assertTrue(web.score_model_id)
        self.assertGreater(web.score, fair.score)
        self.assertAlmostEqual(sum(f["points"] for f in web.score_explanation), web.score, delta=0.5)
        self.assertTrue(any("Scoring Web" in f["label"] for f in web.score_explanation))

    def test_below_the_threshold_rules_alone_score(self):
        self.Model._train_company(self.company)
        self.company.scoring_min_closed_leads = 500  # the model no longer has enough history to be trusted
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000, "team_id": self.team.id})
        self.assertEqual(lead.score_source, "rules")
        self.assertEqual(lead.score, 50)

    def test_not_enough_history_trains_nothing(self):
        self.company.scoring_min_closed_leads = 500
        self.assertFalse(self.Model._train_company(self.company))
        with self.assertRaises(UserError):
            self.Model.with_user(self.manager).action_train_now()

    def test_train_now_asks_the_training_job_and_commits_nothing(self):
        cron = self.env.ref("crm_lead_scoring.ir_cron_scoring_train")
        rescore_cron = self.env.ref("crm_lead_scoring.ir_cron_scoring_rescore")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search([("cron_id", "in", (cron | rescore_cron).ids)])

        def commit():
            raise AssertionError("the button committed inside the request")

        # training and rescoring commit batch by batch: the button must not even get there
        with patch.object(self.env.cr, "commit", commit):
            action = self.Model.with_user(self.manager).action_train_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual((Trigger.search([("cron_id", "in", (cron | rescore_cron).ids)]) - before).cron_id, cron)
        self.assertFalse(self.Model.search([("state", "=", "active")]), "nothing trained in the request")
        # the job itself trains the company's models, then hands the scores to the rescoring job
        self.Model._cron_train(commit=False)
        self.assertTrue(self.Model.search([("company_id", "=", self.company.id), ("state", "=", "active")]))
        self.assertEqual(batch.RunState(self.env, "crm_lead_scoring.rescore").value, {"position": 0, "reason": "model"})
        self.assertTrue(Trigger.search([("cron_id", "=", rescore_cron.id)]) - before, "the rescoring job is woken")

    def test_model_beats_a_constant_on_its_holdout(self):
        model = self.Model._train_company(self.company).filtered(lambda m: not m.team_id)
        rate = model.won_count / (model.won_count + model.lost_count)
        # the holdout's calibration bins give back the labels' mean: a constant's log loss on them
        counts = np.array([b["count"] for b in model.calibration])
        observed = (np.array([b["observed"] for b in model.calibration]) * counts).sum() / counts.sum()
        constant = -(observed * np.log(rate) + (1 - observed) * np.log(1 - rate))
        self.assertLess(model.log_loss, constant)
        self.assertGreater(model.auc, 0.5)
        self.assertIsNotNone(metrics.roc_auc([0, 1], [0.2, 0.8]))

    def _scramble_outcomes(self, seed=5):
        """Half of the history changes outcome at random: it no longer follows the source."""
        rng = np.random.default_rng(seed)
        flipped = self.env["crm.lead"]
        for lead in self.leads.with_context(active_test=False):
            if rng.random() < 0.5:
                flipped |= lead
                if lead.won_status == "won":
                    lead.stage_id = self.open_stage
                    lead.action_set_lost(lost_reason_id=self.lost_reason.id)
                else:
                    lead.write({"active": True, "stage_id": self.won_stage.id, "probability": 100})
        return flipped

    def test_worse_model_is_rejected_and_previous_kept(self):
        first = self.Model._train_company(self.company).filtered(lambda m: not m.team_id)
        real_train = learning.train

        def constant_train(columns, y, seed=0, **kwargs):
            """The learning goes wrong: the new model ignores every fact (a constant)."""
            payload, quality, holdout = real_train(columns, y, seed=seed, **kwargs)
            payload["coef"] = [0.0] * len(payload["coef"])
            quality["auc"] = 0.5
            return payload, quality, holdout

        with patch.object(learning, "train", constant_train):
            second = self.Model._train_company(self.company).filtered(lambda m: not m.team_id)
        self.assertEqual(second.state, "rejected")
        self.assertGreater(second.previous_auc, 0.7, "the model in use is measured on the new holdout")
        self.assertEqual(first.state, "active")
        lead = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id})
        self.assertEqual(lead.score_model_id, first, "scores keep coming from the model in use")

    def test_better_model_replaces_previous(self):
        flipped = self._scramble_outcomes()
        first = self.Model._train_company(self.company).filtered(lambda m: not m.team_id)
        # the outcomes are corrected: the history follows the source again
        for lead in flipped.with_context(active_test=False):
            if lead.won_status == "won":
                lead.stage_id = self.open_stage
                lead.action_set_lost(lost_reason_id=self.lost_reason.id)
            else:
                lead.write({"active": True, "stage_id": self.won_stage.id, "probability": 100})
        second = self.Model._train_company(self.company).filtered(lambda m: not m.team_id)
        self.assertEqual(second.state, "active")
        self.assertGreater(second.auc, second.previous_auc)
        self.assertEqual(first.state, "retired")

    def test_team_model_when_team_has_history(self):
        models = self.Model._train_company(self.company)
        self.assertEqual(set(models.mapped("team_id")), {self.team})
        self.assertEqual(len(models), 2)
