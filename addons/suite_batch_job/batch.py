"""The suite's batch-job pattern, written once (the root README, "Background work", tells it).

A cron of the suite is a *job* over rows (or units, such as the scopes a model is trained for)
that need some work, found by a condition that stays true until the row is handled. Each call
of the job, as ``ir.cron`` makes it:

1. claims a batch of those rows, locked ``FOR UPDATE SKIP LOCKED`` (rows another server holds
   are skipped, not waited for), in a stable order;
2. processes them, after which they no longer match the condition;
3. reports ``ir.cron._commit_progress(done, remaining=<rows still matching>)``, which commits,
   and stops when it returns 0: the run's budget (about 10 seconds) is spent. Odoo then calls
   the job again (at least 10 calls a run, then a new run at once), and the next call resumes
   where this one stopped because the condition only holds for what is left.

When nothing can be claimed, whatever still matches is locked by another run, which reports it:
this call says ``remaining=0`` so that Odoo does not call it again for rows it cannot take.

A condition that does not change by itself ("every open lead" for a daily pass) is made one
with a :class:`RunState`: the run keeps its position (the last id handled) in a system
parameter, committed with each batch, and clears it at the end.
"""

import json
import logging
import random
import time

import psycopg2.errors

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Another server wrote the same rows (or holds a lock the batch needs) between the claim and the
# end of the batch: the batch is rolled back and claimed again in a new snapshot.
CONFLICTS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
MAX_CONFLICTS = 5

# (database, cron id) -> cron_end_time of the last call this process made: the calls of one
# ir.cron run share that value, a new run gets a new one (see ``run(heavy=True)``)
_LAST_CALL = {}


class ClaimedTwice(RuntimeError):
    """``process`` left a row matching the claim's condition: the job would loop on it."""


def time_left(env):
    """Seconds left in the cron run's budget, counted as ``_commit_progress`` does (``inf`` outside a cron)."""
    end = env.context.get("cron_end_time")
    return float("inf") if end is None else max(end - time.monotonic(), 0.0)


def _late_in_run(env):
    """True when an earlier call of this very cron run already spent the budget."""
    cron_id, end = env.context.get("cron_id"), env.context.get("cron_end_time")
    if not cron_id or end is None:
        return False
    key = (env.cr.dbname, cron_id)
    late = _LAST_CALL.get(key) == end and time_left(env) <= 0
    _LAST_CALL[key] = end
    return late


def run(env, name, claim, process, left, *, batch_size, commit=True, heavy=False):
    """Run a job: claim a batch, process it, commit progress, until done or out of budget.

    :param name: the job's name, for the log
    :param claim: ``claim(limit) -> ids``: rows still needing the work, locked
        ``FOR UPDATE SKIP LOCKED``, at most ``limit``
    :param process: ``process(ids)`` does the work; afterwards these rows leave the claim's
        condition. A row claimed again after this call committed it was queued again by
        another transaction meanwhile: the call stops there and leaves it to the next call.
        In one transaction (``commit=False``) that cannot happen: :class:`ClaimedTwice` is raised.
    :param left: ``left() -> int``: how many rows still match the condition, reported to Odoo
        as ``remaining``
    :param batch_size: rows per claim; a batch should take about a second, so that the ten
        calls Odoo makes in a run stay far below the cron worker's time limit
    :param commit: ``False`` inside a caller's transaction (a test, a button that runs the job
        at once): nothing is committed, the budget does not apply, the job runs to the end
    A write conflict with another server (:data:`CONFLICTS`) rolls the batch back and claims
    again after a short random pause; after :data:`MAX_CONFLICTS` in a row the call gives way
    (its progress says what is left, so Odoo calls the job again). Inside a caller's
    transaction (``commit=False``) a conflict is the caller's: it is raised.

    :param heavy: one unit may take longer than the whole budget (training a model): a call
        made after an earlier call of the same run spent the budget processes nothing and
        reports what is left, so that Odoo closes the run and starts a new one, instead of
        ten heavy calls in a row holding the cron worker
    :return: how many rows were processed
    """
    cron = env["ir.cron"]
    if commit and heavy and _late_in_run(env):
        remaining = left()
        cron._commit_progress(0, remaining=remaining)
        _logger.info("%s: budget spent by an earlier call, %s left for the next run", name, remaining)
        return 0
    done = conflicts = 0
    seen = set()
    while True:
        try:
            env.flush_all()
            # in REPEATABLE READ, locking a row another transaction changed since this one's
            # snapshot fails (SKIP LOCKED only skips rows locked now): the claim is retried too
            ids = list(claim(batch_size))
            if not ids:
                break
            if twice := seen.intersection(ids):
                if not commit:
                    # one transaction: nobody else can have queued them again, process() left them
                    raise ClaimedTwice(f"{name}: rows {sorted(twice)[:10]} claimed again after being processed")
                # handled and committed by this call, then queued again by another transaction
                # (a payment for an order just handled): new work, for the next call
                remaining = left()
                cron._commit_progress(0, remaining=remaining)
                _logger.info(
                    "%s: rows %s came back after this call handled them; %s left for the next call",
                    name,
                    sorted(twice)[:10],
                    remaining,
                )
                return done
            process(ids)
            env.flush_all()
        except CONFLICTS as error:
            if not commit:
                raise
            env.cr.rollback()
            env.transaction.reset()
            conflicts += 1
            if conflicts > MAX_CONFLICTS:
                remaining = left()
                cron._commit_progress(0, remaining=remaining)
                _logger.info(
                    "%s: %s write conflicts in a row (%s), %s left for the next call",
                    name,
                    conflicts,
                    error.pgcode,
                    remaining,
                )
                return done
            _logger.info(
                "%s: write conflict with another transaction (%s), the batch is taken again", name, error.pgcode
            )
            time.sleep(random.uniform(0.05, 0.2) * conflicts)
            continue
        conflicts = 0
        seen.update(ids)
        done += len(ids)
        if commit:
            remaining = left()
            if not cron._commit_progress(len(ids), remaining=remaining):
                _logger.info("%s: %s done in this call, budget spent, %s left", name, done, remaining)
                return done
            if not remaining:
                return done
    if commit:
        # what may still match is locked by another run, which reports it
        cron._commit_progress(0, remaining=0)
    return done


def batch_size(env, key, default, maximum=None):
    """Rows per batch of a job: the system parameter ``key`` when it is a whole number above
    zero (at most ``maximum``), else ``default`` (absent, empty, 0, negative or not a number).

    Every job of the suite reads its batch size here, so that a consultant's ``0`` or ``-5``
    means the same in each (the default).
    """
    # sudo: a job's technical parameter, read by the job; only a number comes out of it, never the text
    value = env["ir.config_parameter"].sudo().get_param(key)
    try:
        size = int(value)
    except (TypeError, ValueError):
        return default
    if size < 1:
        return default
    return min(size, maximum) if maximum else size


class RunState:
    """Where a job's current run stands, a row of ``ir_config_parameter`` written with the batch.

    ``value`` is ``{}`` when no run is in progress. The row is read and written in SQL, not
    through ``get_param``/``set_param``: those clear the registry's caches in every worker at
    each write, and a job saves its position at every batch. The key is visible in Settings >
    Technical > System Parameters, where an administrator can delete it to restart a run.
    """

    def __init__(self, env, key):
        self.env = env
        self.key = key

    @property
    def value(self):
        self.env.cr.execute(SQL("SELECT value FROM ir_config_parameter WHERE key = %s", self.key))
        row = self.env.cr.fetchone()
        try:
            value = json.loads(row[0]) if row and row[0] else {}
        except ValueError:
            _logger.warning("%s holds %r, not a run state: starting a new run", self.key, row[0])
            return {}
        return value if isinstance(value, dict) else {}

    def save(self, **values):
        text = json.dumps({**self.value, **values}, sort_keys=True)
        self.env.cr.execute(
            SQL(
                """INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
                   VALUES (%(key)s, %(value)s, %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC')
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_uid = EXCLUDED.write_uid,
                                                   write_date = EXCLUDED.write_date""",
                key=self.key,
                value=text,
                uid=self.env.uid,
            )
        )

    def clear(self):
        self.env.cr.execute(SQL("DELETE FROM ir_config_parameter WHERE key = %s", self.key))


def pg_array(values):
    """``values`` as one PostgreSQL array literal, a string the query casts (``%s::int[]``).

    A batch's values travel to its set-based statements (``= ANY``, ``unnest``) as arrays.
    psycopg2 sends a Python list as ``ARRAY[v1, v2, ...]``, an expression PostgreSQL parses and
    casts element by element: 5 ms for 5,000 ids, 22 ms with as many timestamps, against under
    1 ms and 3 ms for the same arrays as one literal (measured on the scoring's batches).

    :param values: ints, floats, booleans, strings, dates and datetimes (naive, as Odoo stores
        them), ``None`` for NULL
    """
    memo = {}  # a batch's values repeat (every open lead is measured at the same moment)

    def item(value):
        if value.__class__ is int:
            return str(value)
        key = (value.__class__, value)  # the type too: True == 1 and 1.0 == 1 read differently
        text = memo.get(key)
        if text is None:
            text = memo[key] = _array_item(value)
        return text

    return "{" + ",".join(map(item, values)) + "}"


def _array_item(value):
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value else "NaN"  # noqa: PLR0124 (NaN is the one value unequal to itself)
    # strings, dates and datetimes: quoted, the array syntax's two special characters escaped
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
