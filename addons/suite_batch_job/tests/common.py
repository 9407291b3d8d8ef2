"""Run a suite cron as ``ir.cron`` runs it, for tests of resuming and of what remains."""

import time
from contextlib import contextmanager

from odoo import api


@contextmanager
def cron_call(case, cron, end_time=None):
    """The environment of one call of ``cron``'s job, as ``ir.cron._run_job`` prepares it.

    A transaction of its own on a test cursor (its commits go into the test's savepoint), the
    cron's user, ``lastcall``, ``cron_id``, ``cron_end_time`` and a committed progress record in
    the context. Yields ``(env, progress)``.

    :param end_time: the run's ``cron_end_time`` (``time.monotonic()`` scale); by default one
        second ago: the budget is spent, so a job that honours it stops after one batch. Pass
        the same value to several calls to make them calls of one run.
    """
    end_time = time.monotonic() - 1 if end_time is None else end_time
    case.env.flush_all()
    with case.enter_registry_test_mode(), case.registry.cursor() as cr:
        env = api.Environment(
            cr, cron.user_id.id, {"lastcall": cron.lastcall, "cron_id": cron.id, "cron_end_time": end_time}
        )
        job, progress = env["ir.cron"].browse(cron.id)._add_progress()
        cr.commit()  # pylint: disable=invalid-commit  # as _run_job does: the progress outlives a rolled-back batch
        yield job.env, progress


def call_cron(case, cron, end_time=None):
    """One call of the cron's job (its server action, as a cron worker runs it) in :func:`cron_call`.

    :return: the call's progress, ``(done, remaining)``
    """
    cron = case.env.ref(cron) if isinstance(cron, str) else cron
    with cron_call(case, cron, end_time) as (env, progress):
        env["ir.cron"].browse(cron.id)._callback(cron.cron_name, cron.ir_actions_server_id.id)
        return progress.done, progress.remaining


def call_cron_to_end(case, cron, max_calls=100):
    """Call the job with a spent budget until it says nothing remains; the list of ``(done, remaining)``."""
    calls = []
    while len(calls) < max_calls:
        calls.append(call_cron(case, cron))
        if not calls[-1][1]:
            return calls
    raise AssertionError(f"{cron} still had work after {max_calls} calls: {calls[-3:]}")
