"""Run a suite cron as ``ir.cron`` runs it, for tests of resuming and of what remains."""

import time

from odoo import api


def call_cron(case, cron, end_time=None):
    """One call of the cron's job, made as ``ir.cron._run_job`` makes it, on a test cursor.

    The job runs its server action as the cron's user in a transaction of its own (committed
    into the test's savepoint), with ``cron_id``, ``lastcall``, ``cron_end_time`` and its progress
    record in the context, exactly as a cron worker gives them.

    :param end_time: the run's ``cron_end_time`` (``time.monotonic()`` scale); by default one
        second ago: the budget is spent, so a job that honours it stops after one batch. Pass
        the same value to several calls to make them calls of one run.
    :return: the call's progress, ``(done, remaining)``
    """
    cron = case.env.ref(cron) if isinstance(cron, str) else cron
    end_time = time.monotonic() - 1 if end_time is None else end_time
    case.env.flush_all()
    with case.enter_registry_test_mode(), case.registry.cursor() as cr:
        env = api.Environment(
            cr, cron.user_id.id, {"lastcall": cron.lastcall, "cron_id": cron.id, "cron_end_time": end_time}
        )
        job, progress = env["ir.cron"].browse(cron.id)._add_progress()
        job._callback(cron.cron_name, cron.ir_actions_server_id.id)
        return progress.done, progress.remaining


def call_cron_to_end(case, cron, max_calls=100):
    """Call the job with a spent budget until it says nothing remains; the list of ``(done, remaining)``."""
    calls = []
    while len(calls) < max_calls:
        calls.append(call_cron(case, cron))
        if not calls[-1][1]:
            return calls
    raise AssertionError(f"{cron} still had work after {max_calls} calls: {calls[-3:]}")
