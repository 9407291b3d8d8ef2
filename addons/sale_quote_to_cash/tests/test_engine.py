"""The runner and the checks' arithmetic on their own: no database."""

import contextlib
import unittest

from ..engine import checks, matching
from ..engine.runner import DONE, FAILED, Failure, Step, run_batch


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

    def test_a_failure_message_fails_its_order_only(self):
        tx, calls = FakeTransaction(), []

        def run(ids):
            calls.append(list(ids))
            for oid in ids:
                if oid != 2:
                    tx.state[oid] = True
            return {2: Failure("two payments")}

        steps = [Step("a", lambda ids: ids, run), self._step(tx, "b")]
        result = run_batch([1, 2, 3], steps, tx.savepoint, describe)
        self.assertEqual(calls, [[1, 2, 3]], "no rollback, no order taken again alone")
        self.assertEqual(result.failed, {2: ("a", "two payments")})
        self.assertEqual(tx.state.get(1), True, "the others' work stands")
        self.assertEqual(sorted(result.done("b")), [1, 3], "the failed order takes no further step")


class TestMatching(unittest.TestCase):
    def _named(self, memo, **references):
        index = matching.ReferenceIndex()
        for key, reference in references.items():
            index.add(key, reference)
        return index.named(memo)

    def test_a_reference_inside_another_is_not_named(self):
        self.assertEqual(self._named("INV/2026/01234", ref="1234"), set())
        self.assertEqual(self._named("S100000", order="S10000"), set())
        self.assertEqual(self._named("INV/2026/00012-1", invoice="INV/2026/00012"), set())
        self.assertEqual(self._named("XINV/2026/00012", invoice="INV/2026/00012"), set())
        self.assertEqual(self._named("S10000_2", order="S10000"), set())

    def test_a_whole_reference_is_named_whatever_surrounds_it(self):
        for memo in ("INV/2026/00012", "  inv/2026/00012 ", "Paid: INV/2026/00012.", "(INV/2026/00012), thanks"):
            with self.subTest(memo=memo):
                self.assertEqual(self._named(memo, invoice="INV/2026/00012", other="INV/2026/00013"), {"invoice"})

    def test_every_reference_a_memo_names(self):
        memo = "INV/2026/00012 + INV/2026/00013, order 1234"
        self.assertEqual(
            self._named(memo, a="INV/2026/00012", b="INV/2026/00013", ref="1234", other="12"), {"a", "b", "ref"}
        )

    def test_a_reference_of_several_words(self):
        self.assertEqual(self._named("for po 77 thanks", ref="PO 77"), {"ref"})
        self.assertEqual(self._named("for po 770", ref="PO 77"), set())
        self.assertEqual(self._named("po", ref="PO 77"), set())

    def test_nothing_is_named_by_an_empty_memo_or_reference(self):
        self.assertEqual(self._named("", order="S1"), set())
        self.assertEqual(self._named("S1", order=""), set())
        self.assertEqual(matching.tokens(" -/ "), ())


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
