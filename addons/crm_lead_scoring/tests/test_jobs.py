"""The three scoring jobs called as ``ir.cron`` calls them, with the run's budget spent.

Each call then does one batch (one scope for the training) and says what is left; the next
call resumes there. The tests count what each lead or scope went through: nothing is done twice,
nothing is left out, and the job ends with ``remaining=0`` after exactly the work there was.
"""

import time
from unittest.mock import patch

from odoo.sql_db import db_connect
from odoo.tests import get_db_name, tagged
from odoo.tools import SQL

from odoo.addons.base.models import ir_cron as ir_cron_module
from odoo.addons.suite_batch_job import batch
from odoo.addons.suite_batch_job.tests.common import call_cron, call_cron_to_end

from ..models.crm_lead import JOB_BATCH
from .common import ScoringCase

PENDING = "crm_lead_scoring.ir_cron_scoring_pending"
RESCORE = "crm_lead_scoring.ir_cron_scoring_rescore"
TRAIN = "crm_lead_scoring.ir_cron_scoring_train"
BATCH_SIZE = 7


def batches(total, size=BATCH_SIZE):
    """The ``(done, remaining)`` of each call that takes one batch of ``size`` out of ``total``."""
    return [(min(size, total - done), max(total - done - size, 0)) for done in range(0, total, size)]


class JobCase(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead.scoring.rule"].create(
            {"name": "Big deal", "kind": "fit", "points": 30, "domain": "[('expected_revenue', '>=', 10000)]"}
        )
        # small batches: a few leads make several calls
        cls.env["ir.config_parameter"].set_param("crm_lead_scoring.batch_size", BATCH_SIZE)
        # whatever pass the database's own runs left is not the tests'
        batch.RunState(cls.env, "crm_lead_scoring.rescore").clear()
        batch.RunState(cls.env, "crm_lead_scoring.train").clear()

    def setUp(self):
        super().setUp()
        batch._LAST_CALL.clear()
        self._mark_history()

    def _mark_history(self):
        """From now on, :meth:`_scored` counts the scorings."""
        self.env.flush_all()
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM crm_lead_score_history")
        self.history_mark = self.env.cr.fetchone()[0]

    def _open_ids(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM crm_lead WHERE active AND won_status = 'pending' ORDER BY id")
        return [row[0] for row in self.env.cr.fetchall()]

    def _make_open_leads(self, count):
        return self.env["crm.lead"].create(
            [{"name": f"Open {i}", "expected_revenue": 20000 if i % 2 else 100} for i in range(count)]
        )

    def _stale(self, ids):
        """Put the scores of these leads out of date: each scoring of one of them leaves a history row."""
        self.env.flush_all()
        self.env.cr.execute(SQL("UPDATE crm_lead SET score = -1 WHERE id = ANY(%s)", list(ids)))
        self.env.invalidate_all()

    def _scored(self, reason):
        """``{lead_id: rows}``: how many times each lead was scored with ``reason`` since the test began."""
        self.env.cr.execute(
            SQL(
                """SELECT lead_id, count(*) FROM crm_lead_score_history
                    WHERE id > %s AND reason = %s GROUP BY lead_id""",
                self.history_mark,
                reason,
            )
        )
        return dict(self.env.cr.fetchall())

    def _state(self, key):
        return batch.RunState(self.env, key).value

    def _triggers(self, xmlid):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(xmlid).id)])

    def _run_cron(self, xmlid):
        """One whole cron run as the cron worker makes it (``ir.cron._run_job``), its budget spent
        from the start; ``(status, [(done, remaining) of each call])``."""
        cron = self.env.ref(xmlid)
        Progress = self.env["ir.cron.progress"]
        last = Progress.search([("cron_id", "=", cron.id)], order="id desc", limit=1).id or 0
        IrCron = self.registry["ir.cron"]
        with self.enter_registry_test_mode(), patch.object(ir_cron_module, "MIN_TIME_PER_JOB", -1):
            with self.registry.cursor() as cr:
                job = IrCron._acquire_one_job(cr, cron.id, include_not_ready=True)
            status = IrCron._run_job(job)
        calls = Progress.search([("cron_id", "=", cron.id), ("id", ">", last)], order="id")
        return status, [(call.done, call.remaining) for call in calls]


@tagged("post_install", "-at_install")
class TestScorePendingJob(JobCase):
    def test_the_batch_size_is_a_system_parameter_with_a_default(self):
        Lead, Params = self.env["crm.lead"], self.env["ir.config_parameter"]
        self.assertEqual(Lead._scoring_batch_size(), BATCH_SIZE)
        for value in (False, "0", "-5", "many"):
            with self.subTest(value=value):
                Params.set_param("crm_lead_scoring.batch_size", value)
                self.assertEqual(Lead._scoring_batch_size(), JOB_BATCH)

    def test_new_and_changed_leads_are_scored_batch_by_batch_each_once(self):
        Lead = self.env["crm.lead"].with_context(crm_lead_scoring_sync=False)
        changed = self.env["crm.lead"].create({"name": "Changed", "expected_revenue": 100})
        new = Lead.create([{"name": f"New {i}", "expected_revenue": 20000 if i % 2 else 100} for i in range(16)])
        changed.with_context(crm_lead_scoring_sync=False).expected_revenue = 20000
        lost = Lead.create({"name": "Lost at once", "expected_revenue": 20000})
        lost.action_set_lost(lost_reason_id=self.lost_reason.id)
        queue = (changed | new | lost).sorted("id").ids
        self._mark_history()
        self.env.cr.execute("SELECT id FROM crm_lead WHERE score_pending ORDER BY id")
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], queue, "the queue is this test's leads")

        calls = [call_cron(self, PENDING)]
        # (a) the first call took the first batch; the next one resumes with what is left
        self.assertEqual(
            (changed | new | lost).filtered("score_pending").ids,
            queue[BATCH_SIZE:],
        )
        calls += call_cron_to_end(self, PENDING)
        # (b) one batch a call, remaining down by a batch each time, 0 after the 18 leads there were
        self.assertEqual(calls, batches(18))
        self.assertEqual(call_cron(self, PENDING), (0, 0), "nothing left in the queue")
        self.env.invalidate_all()
        self.assertFalse((changed | new | lost).filtered("score_pending"))
        # (c) each lead scored once, for what queued it; the lost one only left the queue
        self.assertEqual(self._scored("create"), dict.fromkeys(new.ids, 1))
        self.assertEqual(self._scored("update"), {changed.id: 1})
        self.assertEqual(new.mapped("score"), [0, 30] * 8)
        self.assertEqual(changed.score, 30)
        self.assertFalse(lost.score_grade)


@tagged("post_install", "-at_install")
class TestRescoreJob(JobCase):
    def test_no_index_covers_a_column_the_scoring_rewrites(self):
        """An index on score, grade or model makes every rescored lead a new entry in each of
        crm_lead's indexes (no HOT update): 7.1 s instead of 1.7 s to store 50,000 first scores."""
        self.env.cr.execute(
            """SELECT indexname FROM pg_indexes WHERE tablename = 'crm_lead'
                AND (indexdef ~ '\\m(score|score_grade|score_model_id|score_source|score_date|score_explanation)\\M'
                     AND indexdef !~ 'WHERE score_pending')"""
        )
        self.assertEqual(self.env.cr.fetchall(), [])

    def test_the_daily_rescoring_resumes_and_reaches_every_open_lead_once(self):
        self._make_open_leads(30)
        open_ids = self._open_ids()
        total = len(open_ids)
        self.assertGreater(total, 3 * BATCH_SIZE)
        calls = []
        while not calls or calls[-1][1]:
            # every open lead out of date before each call: a lead scored twice would show twice
            self._stale(open_ids)
            calls.append(call_cron(self, RESCORE))
            if len(calls) == 1:
                # (a) the first call scored the first batch and keeps its place for the next call
                self.assertEqual(sorted(self._scored("rescore")), open_ids[:BATCH_SIZE])
                position = open_ids[BATCH_SIZE - 1]
                self.assertEqual(self._state("crm_lead_scoring.rescore"), {"position": position, "reason": "rescore"})
            self.assertLess(len(calls), 50, "the pass never ends")
        # (b) one batch a call, remaining down by a batch each time, 0 after exactly the open leads
        self.assertEqual(calls, batches(total))
        # (c) every open lead scored exactly once
        self.assertEqual(self._scored("rescore"), dict.fromkeys(open_ids, 1))
        # the pass is over: the next daily run starts again from the first lead
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {})
        self._stale(open_ids)
        self.assertEqual(call_cron(self, RESCORE), (BATCH_SIZE, total - BATCH_SIZE))
        self.assertEqual(self._scored("rescore")[open_ids[0]], 2)

    def test_a_cron_run_with_its_budget_spent_hands_each_lead_to_scoring_once(self):
        """The issue as seen: ir.cron._run_job calls the job ten times while it says work remains."""
        self._make_open_leads(12 * BATCH_SIZE)
        open_ids = self._open_ids()
        total = len(open_ids)
        self.assertGreater(total, 10 * BATCH_SIZE)
        self._stale(open_ids)
        status, calls = self._run_cron(RESCORE)
        # ten different batches, not the first one ten times; Odoo runs the job again at once
        self.assertEqual(status, ir_cron_module.CompletionStatus.PARTIALLY_DONE)
        self.assertEqual(calls, batches(total)[:10])
        self.assertEqual(sorted(self._scored("rescore")), open_ids[: 10 * BATCH_SIZE])
        status, more_calls = self._run_cron(RESCORE)
        self.assertEqual(status, ir_cron_module.CompletionStatus.FULLY_DONE)
        self.assertEqual(calls + more_calls, batches(total))
        self.assertEqual(self._scored("rescore"), dict.fromkeys(open_ids, 1))
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {})

    def test_a_lead_someone_is_editing_is_passed_over_and_not_left(self):
        open_ids = self._open_ids()
        self.assertGreater(len(open_ids), 2 * BATCH_SIZE)
        edited, others = open_ids[0], open_ids[1:]  # a lead of the database's own data: another transaction sees it
        with db_connect(get_db_name()).cursor() as other:
            other.execute("SELECT id FROM crm_lead WHERE id = %s FOR UPDATE NOWAIT", [edited])
            calls = []
            while not calls or calls[-1][1]:
                self._stale(others)
                calls.append(call_cron(self, RESCORE))
                self.assertLess(len(calls), 50, "the pass never ends")
            other.rollback()
        # skipped past in the first batch, never counted as left
        self.assertEqual(calls, batches(len(others)))
        self.assertEqual(self._scored("rescore"), dict.fromkeys(others, 1))
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {})

    def test_a_new_model_starts_the_pass_again_from_the_first_lead(self):
        open_ids = self._open_ids()
        self._stale(open_ids)
        self.assertEqual(call_cron(self, RESCORE), (BATCH_SIZE, len(open_ids) - BATCH_SIZE))
        self.env["crm.lead"]._scoring_start_rescoring("model")
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {"position": 0, "reason": "model"})
        self.assertTrue(self._triggers(RESCORE), "the rescoring job is woken")
        self._stale(open_ids)
        self.assertEqual(call_cron(self, RESCORE), (BATCH_SIZE, len(open_ids) - BATCH_SIZE))
        self.assertEqual(sorted(self._scored("model")), open_ids[:BATCH_SIZE], "from the first lead, for the model")
        calls = call_cron_to_end(self, RESCORE)
        self.assertEqual(sum(done for done, _left in calls), len(open_ids) - BATCH_SIZE)
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {})


@tagged("post_install", "-at_install")
class TestTrainingJob(JobCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_b = cls.env["crm.team"].create({"name": "Scoring Team B"})
        cls._make_closed_leads(100, seed=21)
        leads_b, _won = cls._make_closed_leads(60, seed=22)
        leads_b.with_context(active_test=False).write({"team_id": cls.team_b.id})
        cls.Model = cls.env["crm.lead.scoring.model"]

    def _scopes(self):
        """The scopes with enough closed leads, counted here in SQL: ``[(company_id, team_id or False)]``."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT l.company_id, l.team_id, GROUPING(l.team_id) = 1
                 FROM crm_lead l JOIN res_company c ON c.id = l.company_id
                WHERE l.won_status IN ('won', 'lost')
             GROUP BY GROUPING SETS ((l.company_id), (l.company_id, l.team_id)), c.scoring_min_closed_leads
               HAVING count(*) >= c.scoring_min_closed_leads"""
        )
        return sorted(
            (company_id, team_id or False)
            for company_id, team_id, whole_company in self.env.cr.fetchall()
            if whole_company or team_id
        )

    def _new_models(self, before):
        return sorted((model.company_id.id, model.team_id.id) for model in self.Model.search([]) - before)

    def test_one_scope_per_call_each_once_then_the_rescoring(self):
        scopes = self._scopes()
        count = len(scopes)
        self.assertIn((self.company.id, self.team_b.id), scopes)
        self.assertGreaterEqual(count, 3)
        before = self.Model.search([])
        rescore_triggers = self._triggers(RESCORE)
        end = time.monotonic() - 1
        # (a) one scope trained; left: the other scopes and the unit that closes the pass
        self.assertEqual(call_cron(self, TRAIN, end_time=end), (1, count))
        self.assertEqual(len(self._new_models(before)), 1)
        self.assertEqual(len(self._state("crm_lead_scoring.train")["trained"]), 1)
        # heavy: a second call of the same run, its budget spent, trains nothing and says what is left
        self.assertEqual(call_cron(self, TRAIN, end_time=end), (0, count))
        self.assertEqual(len(self._new_models(before)), 1)
        # each new run resumes with the next scope, remaining down by one each time
        calls = call_cron_to_end(self, TRAIN)
        self.assertEqual(calls, [(1, left) for left in range(count - 1, -1, -1)])
        # (b), (c) exactly one model per scope
        self.assertEqual(self._new_models(before), scopes)
        # the pass is over and hands the new models to the rescoring job, which is woken
        self.assertEqual(self._state("crm_lead_scoring.train"), {})
        self.assertEqual(self._state("crm_lead_scoring.rescore"), {"position": 0, "reason": "model"})
        self.assertTrue(self._triggers(RESCORE) - rescore_triggers)
        open_ids = self._open_ids()
        self.assertFalse(self.env["crm.lead"].browse(open_ids).score_model_id, "no score changed in the training")
        calls = call_cron_to_end(self, RESCORE)
        self.assertEqual(calls, batches(len(open_ids)))
        models = self.Model.search([]) - before
        leads = self.env["crm.lead"].browse(open_ids)
        self.assertTrue(all(lead.score_model_id in models for lead in leads), "every open lead scored by a new model")

    def test_a_cron_run_trains_one_scope_however_many_calls_it_makes(self):
        """The issue as seen: the training job trained every scope once per call, ten calls a run."""
        count = len(self._scopes())
        before = self.Model.search([])
        runs = []
        while not runs or runs[-1][0] != ir_cron_module.CompletionStatus.FULLY_DONE:
            runs.append(self._run_cron(TRAIN))
            self.assertLess(len(runs), 20, "the training never ends")
        partly = ir_cron_module.CompletionStatus.PARTIALLY_DONE
        expected = [(partly, [(1, left), (0, left)]) for left in range(count, 0, -1)]
        self.assertEqual(runs, [*expected, (ir_cron_module.CompletionStatus.FULLY_DONE, [(1, 0)])])
        self.assertEqual(self._new_models(before), self._scopes())

    def test_a_scope_that_fails_to_train_does_not_stop_the_others(self):
        scopes = self._scopes()
        before = self.Model.search([])
        real_train = type(self.Model)._train_scope

        def train_scope(model, company, team, closed_ids, seed=0):
            if team == self.team_b:
                raise ValueError("the learning went wrong")
            return real_train(model, company, team, closed_ids, seed=seed)

        with (
            patch.object(type(self.Model), "_train_scope", train_scope),
            self.assertLogs("odoo.addons.crm_lead_scoring.models.crm_lead_scoring_model", "ERROR"),
        ):
            calls = call_cron_to_end(self, TRAIN)
        self.assertEqual(calls, [(1, left) for left in range(len(scopes), -1, -1)])
        self.assertEqual(self._new_models(before), [scope for scope in scopes if scope[1] != self.team_b.id])
