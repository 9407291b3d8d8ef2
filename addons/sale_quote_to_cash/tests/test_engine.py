"""The runner and the checks' arithmetic on their own: no database."""

import contextlib
import unittest

from ..engine import checks
from ..engine.runner import DONE, FAILED, Step, run_batch


class Boom(Exception):
    pass


class FakeTransaction:
    """Savepoints over a dict: leaving one with an exception restores the dict as it was."""

    def __init__(self):
        self.state = {}
        self.opened = 0

    @contextlib.contextmanager
    def savepoint(self):
        self.opened += 1
        saved = dict(self.state)
        try:
            yield
        except BaseException:
            self.state.clear()
            self.state.update(saved)
            raise


def describe(error):
    return str(error) if isinstance(error, Boom) else None


class TestRunner(unittest.TestCase):
    def _step(self, tx, name, bad=(), log=None):
        def run(ids):
            if log is not None:
                log.append(list(ids))
            for oid in ids:
                tx.state[(oid, name)] = True
            if set(ids) & set(bad):
                raise Boom(f"{name} failed")
            return {}

        return Step(name, lambda ids: [i for i in ids if (i, name) not in tx.state], run, f"{name} ok")

    def test_set_based_when_nothing_fails(self):
        tx, calls = FakeTransaction(), []
        result = run_batch([1, 2, 3], [self._step(tx, "a", log=calls), self._step(tx, "b")], tx.savepoint, describe)
        self.assertEqual(calls, [[1, 2, 3]], "one call for the whole batch")
        self.assertEqual(result.savepoints, 2)
        self.assertEqual(sorted(result.done("b")), [1, 2, 3])

    def test_a_failing_order_is_isolated_and_takes_no_further_step(self):
        tx = FakeTransaction()
        result = run_batch([1, 2, 3], [self._step(tx, "a", bad=[2]), self._step(tx, "b")], tx.savepoint, describe)
        self.assertEqual(result.failed, {2: ("a", "a failed")})
        self.assertNotIn((2, "a"), tx.state, "the failed order's step was rolled back")
        self.assertNotIn((2, "b"), tx.state)
        self.assertEqual(sorted(result.done("b")), [1, 3])
        self.assertIn((1, "a"), tx.state)
        self.assertEqual([o.result for o in result.outcomes if o.order_id == 2], [FAILED])

    def test_done_twice_does_nothing(self):
        tx = FakeTransaction()
        steps = [self._step(tx, "a")]
        run_batch([1], steps, tx.savepoint, describe)
        again = run_batch([1], steps, tx.savepoint, describe)
        self.assertEqual(again.outcomes, [])
        self.assertEqual(again.savepoints, 0)

    def test_savepoint_budget_defers_the_rest(self):
        tx = FakeTransaction()
        ids = list(range(1, 41))
        bad = ids  # every order fails alone: the worst case for savepoints
        result = run_batch(ids, [self._step(tx, "a", bad=bad)], tx.savepoint, describe, max_savepoints=10)
        self.assertLessEqual(tx.opened, 10)
        self.assertEqual(len(result.failed) + len(result.deferred), 40)
        self.assertEqual(len(result.failed), 9)
        self.assertEqual(result.deferred, ids[9:])

    def test_budget_checked_before_each_step(self):
        tx = FakeTransaction()
        steps = [self._step(tx, name) for name in "abcdef"]
        result = run_batch([1, 2], steps, tx.savepoint, describe, max_savepoints=4)
        self.assertLessEqual(tx.opened, 4)
        self.assertEqual(result.done("c"), [1, 2], "three steps fit, with room left for one order alone")
        self.assertEqual(result.done("d"), [])
        self.assertEqual(result.deferred, [1, 2])

    def test_a_crash_is_not_swallowed(self):
        tx = FakeTransaction()

        def crash(ids):
            raise RuntimeError("connection lost")

        with self.assertRaises(RuntimeError):
            run_batch([1, 2], [Step("a", lambda ids: ids, crash)], tx.savepoint, describe)

    def test_messages_of_the_step_win_over_the_default(self):
        tx = FakeTransaction()
        step = Step("a", lambda ids: ids, lambda ids: {1: "special"}, "default")
        result = run_batch([1, 2], [step], tx.savepoint, describe)
        self.assertEqual({o.order_id: o.message for o in result.outcomes}, {1: "special", 2: "default"})
        self.assertTrue(all(o.result == DONE for o in result.outcomes))


class TestChecks(unittest.TestCase):
    def test_credit(self):
        self.assertEqual(checks.credit_exceeded(1000, 300, 200, 400), 0.0)
        self.assertEqual(checks.credit_exceeded(1000, 300, 200, 600), 100.0)
        self.assertEqual(checks.credit_exceeded(0, 10**6, 0, 1), 0.0, "no limit")

    def test_allocation_first_come_first_served(self):
        shortages = checks.allocate([(1, "p", 70), (2, "p", 40), (3, "p", 30)], {"p": 100})
        self.assertEqual(shortages, {2: [("p", 40, 30)]}, "the third still fits in what the second did not take")

    def test_allocation_counts_every_line_of_an_order(self):
        shortages = checks.allocate([(1, "p", 60), (1, "p", 60)], {"p": 100})
        self.assertEqual(shortages, {1: [("p", 120, 100)]})

    def test_margin(self):
        self.assertAlmostEqual(checks.margin_percent(200, 150), 25.0)
        self.assertIsNone(checks.margin_percent(0, 10))
