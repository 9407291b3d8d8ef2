#!/usr/bin/env python3
"""SLA benchmark (``make bench-sla``): the periodic check and the deadline engine at scale.

Usage: ``python3 bench/bench_sla.py -c CONF [--tickets 100000] [--sample 2000] [--reuse] [--keep]``

On a database of ``--tickets`` open tickets (the generator's: four teams on three calendars
in three time zones, with a public holiday, and a 24/7 team; two policies; clocks running,
paused and settled), it prints:

- the periodic SLA check (``support.ticket.sla._cron_check``): a catch-up run now (what fell due
  since the data was made), then the check 5 minutes and 1 hour after it: wall time, database
  time (time spent inside the cursor's ``execute``), queries, lines failed and warned; per
  10,000 open tickets;
- the deadline computation of every running clock by this addon's engine (one timeline per
  calendar, a vectorised search) against Odoo's own way, ``resource.calendar.plan_hours`` called
  per ticket, on the same clocks (a seeded sample of ``--sample`` for the slow way), and whether
  both give the same deadlines.

The checks run in a transaction that is rolled back, so that ``--reuse`` starts from the same
state; ``--keep`` keeps the database after the run.
"""

import random
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from _common import Timer, arg, drop_database, fresh_database, odoo_env, peak_rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import datagen  # noqa: E402

DB = "crm_suite_bench_sla"  # --db to change


def REAL_CLOCK():  # noqa: N802
    """Wall clock that freezegun leaves alone (it replaces time.perf_counter wherever it is referenced)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class RealTimer:
    def __enter__(self):
        self.started = REAL_CLOCK()
        return self

    def __exit__(self, *exc):
        self.seconds = REAL_CLOCK() - self.started


@contextmanager
def db_clock():
    """Count the queries and the time spent in ``Cursor.execute`` (the database's share) inside the block."""
    from odoo import sql_db  # noqa: PLC0415

    figures = {"queries": 0, "seconds": 0.0}
    lock = threading.Lock()
    original = sql_db.Cursor.execute

    def execute(self, *args, **kwargs):
        started = REAL_CLOCK()
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                figures["queries"] += 1
                figures["seconds"] += REAL_CLOCK() - started

    sql_db.Cursor.execute = execute
    try:
        yield figures
    finally:
        sql_db.Cursor.execute = original


def ensure_database(conf, tickets, reuse):
    if reuse:
        try:
            with odoo_env(conf, DB) as env:
                made = env["support.ticket"].search_count([])
            if made >= tickets:
                print(f"[bench-sla] reusing {DB} ({made} tickets)", flush=True)
                return
        except Exception as error:  # noqa: BLE001 - no database yet: make it
            print(f"[bench-sla] cannot reuse {DB}: {error}", flush=True)
    seconds = fresh_database(conf, DB, ["support_desk"])
    print(f"[bench-sla] installed support_desk in {seconds:.0f} s", flush=True)
    started = time.perf_counter()
    with odoo_env(conf, DB) as env:

        def progress(label, counts):
            print(f"[bench-sla] {time.perf_counter() - started:7.1f} s  {label}", flush=True)

        counts = datagen.generate(env, leads=75000, seed=11, commit=True, progress=progress, tickets=tickets)
    print(
        f"[bench-sla] generated {counts.get('support.ticket', 0)} tickets in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def bench_check(env, label, now, open_tickets):
    from freezegun import freeze_time  # noqa: PLC0415

    Line = env["support.ticket.sla"]
    env.invalidate_all()
    with freeze_time(now):
        due_breach = Line.search_count([("state", "=", "ongoing"), ("deadline", "<=", now)])
        due_warning = Line.search_count(
            [("state", "=", "ongoing"), ("warned", "=", False), ("date_warning", "<=", now)]
        )
        with db_clock() as figures, RealTimer() as timer:
            handled = Line._cron_check(commit=False)
    per_10k = 10000.0 / max(open_tickets, 1)
    queries_per_line = figures["queries"] / max(handled, 1)
    print(
        f"check {label:>9}: {handled:6d} lines handled ({due_breach} breaches, up to {due_warning} warnings) "
        f"in {timer.seconds:7.3f} s wall, {figures['seconds']:6.3f} s database, {figures['queries']:6d} queries "
        f"({queries_per_line:.1f} per line); per 10k open tickets: {timer.seconds * per_10k:.3f} s wall, "
        f"{figures['seconds'] * per_10k:.3f} s database",
        flush=True,
    )
    return {"handled": handled, "wall": timer.seconds, "db": figures["seconds"], "queries": figures["queries"]}


def bench_engine(env, sample_size, seed):
    import pytz  # noqa: PLC0415

    Line = env["support.ticket.sla"]
    lines = Line.search([("state", "=", "ongoing")])
    teams = [line.team_id for line in lines]
    starts = lines.mapped("date_checkpoint")
    remaining = [line.target_hours * 3600.0 - line.worked_seconds for line in lines]
    with Timer() as engine_all:
        engine_deadlines = Line._plan(teams, starts, remaining)
    calendar_rows = [i for i, team in enumerate(teams) if team.working_time == "calendar" and remaining[i] > 0]
    rng = random.Random(seed)
    sample = sorted(rng.sample(calendar_rows, min(sample_size, len(calendar_rows))))
    sample_teams = [teams[i] for i in sample]
    with Timer() as engine_sample:
        engine_sample_deadlines = Line._plan(sample_teams, [starts[i] for i in sample], [remaining[i] for i in sample])
    odoo_deadlines = []
    with Timer() as odoo_sample:
        for i in sample:
            calendar = teams[i].resource_calendar_id
            planned = calendar.plan_hours(remaining[i] / 3600.0, pytz.utc.localize(starts[i]), compute_leaves=True)
            odoo_deadlines.append(planned.astimezone(pytz.utc).replace(tzinfo=None))
    differences = [
        abs((ours - theirs).total_seconds())
        for ours, theirs in zip(engine_sample_deadlines, odoo_deadlines, strict=True)
    ]
    same = sum(1 for value in differences if value < 1.0)
    consistent = sum(
        1 for i, value in zip(sample, engine_sample_deadlines, strict=True) if value == engine_deadlines[i]
    )
    engine_rate = len(lines) / engine_all.seconds
    engine_sample_rate = len(sample) / engine_sample.seconds
    odoo_rate = len(sample) / odoo_sample.seconds
    print(
        f"engine: {len(lines)} running clocks in {engine_all.seconds:.3f} s = {engine_rate:,.0f} deadlines/s; "
        f"the {len(sample)}-clock sample in {engine_sample.seconds:.3f} s = {engine_sample_rate:,.0f}/s",
        flush=True,
    )
    print(
        f"odoo plan_hours per ticket: the same {len(sample)} clocks in {odoo_sample.seconds:.3f} s = "
        f"{odoo_rate:,.0f} deadlines/s; engine/odoo = {engine_rate / odoo_rate:.1f}x (all clocks), "
        f"{engine_sample_rate / odoo_rate:.1f}x (sample)",
        flush=True,
    )
    print(
        f"same deadlines: {same}/{len(sample)} within a second (largest difference {max(differences):.3f} s); "
        f"sample = full run for {consistent}/{len(sample)}",
        flush=True,
    )
    return {
        "clocks": len(lines),
        "engine_per_s": engine_rate,
        "engine_sample_per_s": engine_sample_rate,
        "odoo_per_s": odoo_rate,
        "speedup": engine_rate / odoo_rate,
        "speedup_sample": engine_sample_rate / odoo_rate,
        "same": same,
        "sample": len(sample),
    }


def main(argv):
    conf = arg(argv, "-c", str(Path(__file__).resolve().parent.parent / ".local" / "odoo.conf"))
    global DB  # noqa: PLW0603 - one database name for the whole run
    DB = arg(argv, "--db", DB)
    tickets = int(arg(argv, "--tickets", "100000"))
    sample_size = int(arg(argv, "--sample", "2000"))
    ensure_database(conf, tickets, "--reuse" in argv)
    summary = {}
    with odoo_env(conf, DB) as env:
        from odoo import fields  # noqa: PLC0415

        open_tickets = env["support.ticket"].search_count([("is_closed", "=", False)])
        lines = env["support.ticket.sla"].search_count([])
        running = env["support.ticket.sla"].search_count([("state", "=", "ongoing")])
        print(f"database: {open_tickets} open tickets, {lines} SLA lines, {running} clocks running", flush=True)
        env.cr.execute(
            "EXPLAIN SELECT id FROM support_ticket_sla WHERE state = 'ongoing' AND deadline <= now() "
            "ORDER BY deadline LIMIT 500"
        )
        print("plan of the breach search: " + " / ".join(row[0].strip() for row in env.cr.fetchall()[:3]))
        summary.update({f"engine_{k}": v for k, v in bench_engine(env, sample_size, seed=5).items()})
        # first settle what is due now (the backlog since the data was made, or since the last run),
        # then time the periodic check 5 minutes and 1 hour after that one, each from the same state
        base = fields.Datetime.now().replace(microsecond=0)
        figures = bench_check(env, "catch-up", base, open_tickets)
        summary.update({f"check_catchup_{k}": v for k, v in figures.items()})
        env.flush_all()
        env.cr.execute("SAVEPOINT bench_sla_checks")
        for label, delta in (("+5 min", timedelta(minutes=5)), ("+1 hour", timedelta(hours=1))):
            figures = bench_check(env, label, base + delta, open_tickets)
            key = label.replace("+", "").replace(" ", "")
            summary.update({f"check_{key}_{k}": v for k, v in figures.items()})
            env.cr.execute("ROLLBACK TO SAVEPOINT bench_sla_checks")
            env.invalidate_all()
        env.cr.rollback()  # a rerun with --reuse starts from the same data
        summary["open_tickets"] = open_tickets
    if "--keep" not in argv and "--reuse" not in argv:
        drop_database(conf, DB)
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print("sla: " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
