import json
import math
import time
from datetime import date, datetime
from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.suite_batch_job import batch
from odoo.addons.suite_batch_job.tests.common import cron_call


@tagged("post_install", "-at_install")
class TestBatchJob(TransactionCase):
    """The runner on a real table, each call made in a transaction of its own as ir.cron makes it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env["ir.cron"].create(
            {
                "name": "batch job under test",
                "model_id": cls.env.ref("base.model_res_partner").id,
                "state": "code",
                "code": "model.browse()",
            }
        )

    def setUp(self):
        super().setUp()
        self.env.cr.execute("CREATE TEMPORARY TABLE batch_job_row (id int PRIMARY KEY, todo bool, hits int DEFAULT 0)")
        self.env.cr.execute("INSERT INTO batch_job_row (id, todo) SELECT n, true FROM generate_series(1, 25) n")
        batch._LAST_CALL.clear()

    # the job: rows to do, each one hit once
    def _claim(self, env):
        def claim(limit):
            env.cr.execute(
                SQL("SELECT id FROM batch_job_row WHERE todo ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", limit)
            )
            return [row[0] for row in env.cr.fetchall()]

        return claim

    def _process(self, env, clear=True):
        def process(ids):
            env.cr.execute(
                SQL("UPDATE batch_job_row SET hits = hits + 1, todo = %s WHERE id = ANY(%s)", not clear, ids)
            )

        return process

    def _left(self, env):
        def left():
            env.cr.execute("SELECT count(*) FROM batch_job_row WHERE todo")
            return env.cr.fetchone()[0]

        return left

    def _call(self, end_time=None, heavy=False, clear=True):
        """One call as ir.cron makes it; ``(processed, progress done, progress remaining)``."""
        with cron_call(self, self.cron, end_time) as (env, progress):
            processed = batch.run(
                env,
                "test",
                self._claim(env),
                self._process(env, clear),
                self._left(env),
                batch_size=10,
                heavy=heavy,
            )
            return processed, progress.done, progress.remaining

    def _hits(self):
        self.env.cr.execute("SELECT array_agg(DISTINCT hits) FROM batch_job_row")
        return sorted(self.env.cr.fetchone()[0])

    def test_spent_budget_one_batch_per_call_and_resume(self):
        self.assertEqual(self._call(), (10, 10, 15))
        self.assertEqual(self._call(), (10, 10, 5))
        self.assertEqual(self._call(), (5, 5, 0))
        self.assertEqual(self._hits(), [1], "every row processed exactly once")
        self.assertEqual(self._call(), (0, 0, 0), "nothing left: the job says so")

    def test_budget_left_runs_to_the_end(self):
        self.assertEqual(self._call(end_time=time.monotonic() + 600), (25, 25, 0))
        self.assertEqual(self._hits(), [1])

    def test_rows_locked_elsewhere_are_not_reported(self):
        # rows 1-20 are held by another run (in the test: handled already, still matching for left())
        self.env.cr.execute("UPDATE batch_job_row SET todo = false WHERE id > 20")
        claimed = []

        def claim(limit):
            ids = [] if claimed else [1, 2]
            claimed.append(ids)
            return ids

        with cron_call(self, self.cron, time.monotonic() + 600) as (env, progress):
            done = batch.run(env, "test", claim, self._process(env, clear=False), self._left(env), batch_size=10)
            self.assertEqual((done, progress.done, progress.remaining), (2, 2, 0))

    def test_a_row_process_leaves_in_the_condition_is_a_bug_in_one_transaction(self):
        env = self.env
        with self.assertRaises(batch.ClaimedTwice):
            batch.run(
                env,
                "test",
                self._claim(env),
                self._process(env, clear=False),
                self._left(env),
                batch_size=10,
                commit=False,
            )

    def test_a_row_queued_again_after_its_commit_is_left_to_the_next_call(self):
        with cron_call(self, self.cron, time.monotonic() + 600) as (env, progress):
            claim, claims = self._claim(env), []

            def claim_after_requeue(limit):
                if claims:
                    # meanwhile another transaction queued row 3 again (handled by the first batch)
                    env.cr.execute("UPDATE batch_job_row SET todo = true WHERE id = 3")
                claims.append(limit)
                return claim(limit)

            done = batch.run(env, "test", claim_after_requeue, self._process(env), self._left(env), batch_size=10)
            self.assertEqual(
                (done, progress.done, progress.remaining),
                (10, 10, 16),
                "the call stops at the row it handled already: 15 never handled, and row 3 again",
            )
        # the next call takes row 3 again (new work) with the rest
        self.assertEqual(self._call(end_time=time.monotonic() + 600), (16, 16, 0))
        self.env.cr.execute("SELECT hits, count(*) FROM batch_job_row GROUP BY hits ORDER BY hits")
        self.assertEqual(self.env.cr.fetchall(), [(1, 24), (2, 1)])

    def test_heavy_job_yields_the_rest_of_a_spent_run(self):
        end = time.monotonic() - 1
        self.assertEqual(self._call(end_time=end, heavy=True), (10, 10, 15))
        # the second call of the same run: nothing more, the rest for a new run
        self.assertEqual(self._call(end_time=end, heavy=True), (0, 0, 15))
        self.assertEqual(self._call(heavy=True), (10, 10, 5), "a new run takes the next batch")
        self.assertEqual(self._hits(), [0, 1])

    def _run_with_conflicts(self, conflicts):
        """A job whose first ``conflicts`` batches meet another server's write."""
        failures = []
        with cron_call(self, self.cron, time.monotonic() + 600) as (env, progress):
            work = self._process(env)

            def process(ids):
                work(ids)  # written, then lost with the rolled-back batch
                if len(failures) < conflicts:
                    failures.append(ids)
                    raise psycopg2.errors.SerializationFailure("could not serialize access")

            with patch.object(time, "sleep"):
                done = batch.run(env, "test", self._claim(env), process, self._left(env), batch_size=10)
            return done, progress.done, progress.remaining

    def test_a_write_conflict_retries_the_batch_in_a_new_transaction(self):
        self.assertEqual(self._run_with_conflicts(2), (25, 25, 0))
        self.assertEqual(self._hits(), [1], "the rolled-back writes are gone, each row is done once")

    def test_a_claim_that_meets_a_concurrent_update_is_retried(self):
        failures = []
        with cron_call(self, self.cron, time.monotonic() + 600) as (env, progress):
            rows = self._claim(env)

            def claim(limit):
                if not failures:
                    failures.append(limit)
                    raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
                return rows(limit)

            with patch.object(time, "sleep"):
                done = batch.run(env, "test", claim, self._process(env), self._left(env), batch_size=10)
            self.assertEqual((done, progress.done, progress.remaining, len(failures)), (25, 25, 0, 1))
        self.assertEqual(self._hits(), [1])

    def test_conflicts_in_a_row_give_way_with_what_is_left(self):
        self.assertEqual(self._run_with_conflicts(batch.MAX_CONFLICTS + 1), (0, 0, 25))
        self.assertEqual(self._hits(), [0])

    def test_outside_a_cron_without_commit_runs_to_the_end(self):
        env = self.env
        done = batch.run(
            env, "test", self._claim(env), self._process(env), self._left(env), batch_size=10, commit=False
        )
        self.assertEqual(done, 25)
        self.assertEqual(self._hits(), [1])

    def test_saving_the_state_clears_no_cache(self):
        registry = self.env.registry
        with patch.object(type(registry), "clear_cache") as clear_cache:
            state = batch.RunState(self.env, "suite_batch_job.test")
            for position in range(3):
                state.save(position=position)
            state.clear()
        clear_cache.assert_not_called()

    def test_run_state_survives_calls_and_clears(self):
        state = batch.RunState(self.env, "suite_batch_job.test")
        self.assertEqual(state.value, {})
        state.save(position=12, reason="daily")
        state.save(position=20)
        self.assertEqual(batch.RunState(self.env, "suite_batch_job.test").value, {"position": 20, "reason": "daily"})
        self.assertEqual(
            self.env["ir.config_parameter"].search([("key", "=", "suite_batch_job.test")]).value,
            '{"position": 20, "reason": "daily"}',
            "an administrator sees it in the system parameters",
        )
        state.clear()
        self.assertEqual(state.value, {})
        self.env["ir.config_parameter"].set_param("suite_batch_job.test", "not json")
        self.assertEqual(state.value, {}, "a damaged state starts a new run")


@tagged("post_install", "-at_install")
class TestArrayLiteral(TransactionCase):
    """``pg_array``: what PostgreSQL reads back is what Python gave, whatever the values."""

    def _round_trip(self, values, sql_type):
        self.env.cr.execute(SQL("SELECT unnest(%s::%s[])", batch.pg_array(values), SQL(sql_type)))
        return [row[0] for row in self.env.cr.fetchall()]

    def test_strings_with_the_array_syntax_and_quotes_come_back_as_given(self):
        values = ['a "quoted" word', "back\\slash", "{braces}, commas", "NULL", "", "l'apostrophe", "é€ 日本", None]
        self.assertEqual(self._round_trip(values, "varchar"), values)

    def test_json_texts_come_back_as_json(self):
        factors = [{"label": 'Source: "Web", {x}', "points": 1.5}]
        self.env.cr.execute(SQL("SELECT unnest(%s::jsonb[])", batch.pg_array([json.dumps(factors), None])))
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], [factors, None])

    def test_numbers_booleans_and_moments(self):
        moment = datetime(2026, 3, 29, 1, 30, 5, 123456)
        self.assertEqual(self._round_trip([1, -2, None, 2**40], "bigint"), [1, -2, None, 2**40])
        self.assertEqual(self._round_trip([0.1, -1e-300, None], "float8"), [0.1, -1e-300, None])
        self.assertTrue(math.isnan(self._round_trip([float("nan")], "float8")[0]))
        # True == 1 in Python: the literal keeps each one's own spelling
        self.assertEqual(self._round_trip([True, False, None], "bool"), [True, False, None])
        self.assertEqual(self._round_trip([1, True], "text"), ["1", "t"])
        self.assertEqual(self._round_trip([moment, moment, None], "timestamp"), [moment, moment, None])
        self.assertEqual(self._round_trip([date(2026, 2, 28)], "date"), [date(2026, 2, 28)])
        self.assertEqual(self._round_trip([], "int"), [])


@tagged("post_install", "-at_install")
class TestBatchSize(TransactionCase):
    """``batch_size``: one reading of a job's batch size for every job of the suite."""

    def test_a_user_gets_a_number_or_the_default_never_the_text(self):
        Params = self.env["ir.config_parameter"]
        user = new_test_user(self.env, "batch_reader", groups="base.group_user")
        env = self.env(user=user)
        with self.assertRaises(AccessError):
            Params.with_user(user).get_param("test.batch_size")  # the parameters are not the user's
        cases = {
            "250": 250,
            " 40 ": 40,
            "0": 7,
            "-5": 7,
            "many": 7,
            "s3cr3t-token": 7,
            "": 7,
            "100000": 1000,
        }
        for value, expected in cases.items():
            with self.subTest(value=value):
                Params.set_param("test.batch_size", value)
                self.assertEqual(batch.batch_size(env, "test.batch_size", 7, maximum=1000), expected)
        Params.set_param("test.batch_size", False)
        self.assertEqual(batch.batch_size(env, "test.batch_size", 7), 7)
        self.assertEqual(batch.batch_size(env, "test.absent", 9), 9)
