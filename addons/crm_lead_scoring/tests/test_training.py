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

    def test_daily_rescoring_explains_only_the_scores_it_changes(self):
        """The explanation costs several times the prediction: a rescoring that confirms a score
        leaves the lead unexplained again; the lead whose score moves gets its new explanation."""
        self.Model._train_company(self.company)
        web = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id, "team_id": self.team.id})
        fair = self.env["crm.lead"].create({"name": "Fair", "source_id": self.source_fair.id, "team_id": self.team.id})
        self.assertTrue(web.score_explanation and fair.score_model_id)
        self.assertNotEqual(web.score, fair.score)
        fair_before = fair.score
        # the other open leads (demo data) were scored before the model: scored by it first
        self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
        explained = []
        original = {cls: cls.explain for cls in (learning.TreePredictor, learning.LinearPredictor)}

        def counting(cls):
            def explain(predictor, columns):
                explained.append(len(columns[0].values))
                return original[cls](predictor, columns)

            return explain

        with (
            patch.object(learning.TreePredictor, "explain", counting(learning.TreePredictor)),
            patch.object(learning.LinearPredictor, "explain", counting(learning.LinearPredictor)),
        ):
            self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
            self.assertEqual(sum(explained), 0, "every score confirmed: no lead explained again")
            # a fact moves one lead's score (its source, straight in SQL: no write queues it)
            self.env.cr.execute("UPDATE crm_lead SET source_id = %s WHERE id = %s", [self.source_web.id, fair.id])
            self.env.invalidate_all()
            self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
        self.assertEqual(sum(explained), 1, "only the lead whose score changed is explained")
        self.assertNotEqual(fair.score, fair_before)
        self.assertTrue(any("Scoring Web" in f["label"] for f in fair.score_explanation))

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
            payload, quality, holdout = real_train(columns, np.random.default_rng(0).permutation(y), seed=seed)
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

    def _every_closed_lead_in_the_team(self):
        """The demo data's closed leads too: the team's history is then the company's, and the two
        models learn the same leads the same way."""
        self.env.cr.execute(
            "UPDATE crm_lead SET team_id = %s WHERE company_id = %s AND won_status IN ('won', 'lost')",
            [self.team.id, self.company.id],
        )
        self.env.invalidate_all()

    def test_team_model_no_better_than_the_company_model_is_not_used(self):
        """Every closed lead is the team's: its own model cannot beat the company model on them."""
        self._every_closed_lead_in_the_team()
        models = self.Model._train_company(self.company)
        self.assertEqual(set(models.mapped("team_id")), {self.team})
        self.assertEqual(len(models), 2)
        company_model = models.filtered(lambda m: not m.team_id)
        team_model = models - company_model
        self.assertEqual(team_model.state, "company")
        self.assertEqual(team_model.company_auc, round(company_model.payload["team_auc"][str(self.team.id)], 3))
        self.assertLessEqual(team_model.auc, team_model.company_auc)
        lead = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id, "team_id": self.team.id})
        self.assertEqual(lead.score_model_id, company_model, "the team's leads are scored by the company model")

    def test_team_model_in_use_is_retired_when_the_company_model_does_better(self):
        self._every_closed_lead_in_the_team()
        first = self.Model._train_company(self.company).filtered("team_id")
        # as an earlier training without the comparison left it: a poor team model in use (it
        # learned from outcomes drawn at random)
        columns, _ids, won = self.env["crm.lead"]._scoring_training_data(self.leads.ids)
        noise, _quality, _measured = learning.train(columns, np.random.default_rng(1).permutation(won))
        first.write({"state": "active", "payload": noise})
        second = self.Model._train_company(self.company).filtered(lambda m: m.team_id and m != first)
        self.assertEqual((first.state, second.state), ("retired", "company"))
        lead = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id, "team_id": self.team.id})
        self.assertFalse(lead.score_model_id.team_id)

    def test_team_model_that_beats_the_company_model_is_used(self):
        """A second team where the fair wins and the web loses: the company model, learned from
        both teams, is poor on it; the team's own model is far better and scores its leads."""
        other = self.env["crm.team"].create({"name": "Fairs", "company_id": self.company.id})
        rng = np.random.default_rng(4)
        vals, outcomes = [], []
        for i in range(200):
            web = rng.random() < 0.5
            outcomes.append(rng.random() < (0.15 if web else 0.75))
            vals.append(
                {
                    "name": f"Fairs {i}",
                    "type": "opportunity",
                    "team_id": other.id,
                    "source_id": (self.source_web if web else self.source_fair).id,
                    # nothing else tells these leads from the first team's
                    "expected_revenue": rng.choice([1000, 5000, 20000]),
                    "email_from": f"buyer{i}@fairs.example.com",
                }
            )
        leads = self.env["crm.lead"].create(vals)
        won = leads.browse([lead.id for lead, outcome in zip(leads, outcomes, strict=True) if outcome])
        won.write({"stage_id": self.won_stage.id})
        (leads - won).action_set_lost(lost_reason_id=self.lost_reason.id)
        # closed seconds after the first team's leads: their ages would tell the two teams apart
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE crm_lead SET create_date = now() at time zone 'UTC' - interval '30 days',
                      date_last_stage_update = now() at time zone 'UTC' - interval '10 days',
                      date_closed = now() at time zone 'UTC' - interval '10 days'
                WHERE id = ANY(%s)""",
            [(leads | self.leads).ids],
        )
        self.env.invalidate_all()
        models = self.Model._train_company(self.company)
        team_model = models.filtered(lambda m: m.team_id == other)
        self.assertEqual(team_model.state, "active")
        self.assertGreater(team_model.auc, team_model.company_auc + 0.1)
        fair = self.env["crm.lead"].create({"name": "Fair", "source_id": self.source_fair.id, "team_id": other.id})
        web = self.env["crm.lead"].create({"name": "Web", "source_id": self.source_web.id, "team_id": other.id})
        self.assertEqual(fair.score_model_id, team_model)
        self.assertGreater(fair.score, web.score)
