"""The quote-to-cash step runner, apart from the ORM so that it can be read and tested alone.

A batch of orders goes through the steps in their order. Each step first runs on all the
orders that need it at once (one savepoint), which is what makes the chain fast. When that
fails, the step is rolled back and run again order by order, each in its own savepoint, so
that one bad order goes to the exception queue and the others carry on. An order that fails
a step takes no further step in the batch.

PostgreSQL keeps up to 64 subtransactions per transaction in shared memory; beyond that
every visibility check reads ``pg_subtrans`` from disk. The runner therefore counts the
savepoints it opens and stops taking orders in the current transaction before it reaches
``max_savepoints``: the orders it did not reach are returned as *deferred*, stay queued and
are taken by the next transaction.
"""

from dataclasses import dataclass, field

DONE = "done"
FAILED = "failed"
DEFERRED = "deferred"


@dataclass
class Step:
    """One step of the chain.

    ``select(ids)`` returns the ids that need the step now (from the documents' state, so
    that running a step twice does nothing the second time); ``run(ids)`` does it for all of
    them at once and returns ``{id: message}`` for the orders it wants to report on (the
    other selected ones are reported with ``done_message``); a :class:`Failure` message
    fails its order without undoing the others'.
    """

    name: str
    select: callable
    run: callable
    done_message: str = ""


@dataclass
class Outcome:
    order_id: int
    step: str
    result: str
    message: str = ""


@dataclass
class BatchResult:
    outcomes: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)  # order id -> (step, message)
    deferred: list = field(default_factory=list)
    savepoints: int = 0

    def done(self, step):
        return [o.order_id for o in self.outcomes if o.step == step and o.result == DONE]


class Failure(str):
    """A step's message for an order it leaves alone: the order fails the step, as if it had
    raised, while the step's work on the other orders of the batch stands.

    The step must have written nothing for that order (a payment it will not match, say).
    """


class SavepointBudget(Exception):
    """Raised inside the runner when the transaction has no savepoint left for the next order."""


def run_batch(order_ids, steps, savepoint, describe_error, max_savepoints=60):
    """Run ``steps`` on ``order_ids``; return a :class:`BatchResult`.

    :param savepoint: a context manager factory; leaving it with an exception must roll back
        what was done inside and re-raise.
    :param describe_error: turns an exception into the sentence written on the order, or
        returns ``None`` for an exception that must not be caught (a crash, a serialization
        failure): the whole transaction then goes back and the batch is taken again later.
    """
    result = BatchResult()
    alive = list(order_ids)

    def opened():
        result.savepoints += 1
        if result.savepoints > max_savepoints:
            raise SavepointBudget()

    for step in steps:
        if not alive:
            break
        todo = step.select(list(alive))
        if not todo:
            continue
        # Room for the set-based attempt, and for at least one order alone should it fail.
        if result.savepoints + 2 > max_savepoints:
            result.deferred.extend(alive)
            alive = []
            break
        try:
            opened()
            with savepoint():
                messages = step.run(list(todo)) or {}
        except SavepointBudget:
            raise
        except Exception as error:  # noqa: BLE001 - sorted out by describe_error, re-raised if not ours
            if describe_error(error) is None:
                raise
            messages = _one_by_one(step, todo, savepoint, describe_error, opened, result)
        for oid in todo:
            if oid in result.failed or oid in result.deferred:
                continue
            message = messages.get(oid)
            if isinstance(message, Failure):
                result.failed[oid] = (step.name, str(message))
                result.outcomes.append(Outcome(oid, step.name, FAILED, str(message)))
            else:
                result.outcomes.append(Outcome(oid, step.name, DONE, message or step.done_message))
        alive = [oid for oid in alive if oid not in result.failed and oid not in result.deferred]
    return result


def _one_by_one(step, todo, savepoint, describe_error, opened, result):
    messages = {}
    for position, oid in enumerate(todo):
        try:
            opened()
        except SavepointBudget:
            result.deferred.extend(todo[position:])
            return messages
        try:
            with savepoint():
                messages.update(step.run([oid]) or {})
        except Exception as error:  # noqa: BLE001 - see run_batch
            reason = describe_error(error)
            if reason is None:
                raise
            result.failed[oid] = (step.name, reason)
            result.outcomes.append(Outcome(oid, step.name, FAILED, reason))
    return messages
