"""Speed of lead scoring on the generator's data, against Odoo's own recompute, in the same run.

Part of ``make bench-scoring`` (see ``bench_scoring.py``). On a database made
by ``tools/datagen.py`` it prints:

- the quality of this addon's model, of Odoo's naive Bayes and of the three
  references of ``scoring_refs.py`` on the generator's leads (the closed leads
  split 70/30 once, stratified; the suite and the references measured on the
  30 % as closed, Odoo on them reopened), in two cases: ``all`` (every fact)
  and ``noeng`` (without the engagement facts and without every fact another
  addon adds through ``_scoring_extra_columns``, the ERP facts of
  crm_customer_360). Odoo reads neither, so its figures are the same in both;
  it reads the fields ``crm.pls_fields`` names (Odoo's defaults here). The
  table and the target line are those of the real data sets;
- training time; full rescoring of the open leads (time, leads per second,
  queries per 1,000 leads) against Odoo's ``_cron_update_automated_probabilities``
  on the same database: the first scoring of leads never scored, then the daily
  job a day later (time frozen there), each against a run of Odoo's job;
- the time to create a lead one at a time with the scoring and with it
  switched off (``crm_lead_scoring_skip``), and their queries.
"""

import contextlib
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from _common import (
    ROOT,
    Timer,
    count_all_queries,
    count_queries,
    drop_database,
    fresh_database,
    odoo_env,
    peak_rss_mb,
)
from bench_scoring import case_summary, mean_runs, print_case
from freezegun import freeze_time

DB_SPEED = "crm_suite_bench_scoring"
SUITE = ["crm_lead_scoring", "support_desk", "sale_quote_to_cash", "crm_customer_360"]
ENGAGEMENT = {"emails_in", "emails_out", "activities_done", "days_since_contact"}


def _generate(conf, leads):
    started = time.perf_counter()
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "datagen.py"),
        "-c",
        str(conf),
        "-d",
        DB_SPEED,
        "--size",
        str(leads),
        "--seed",
        "42",
        "--no-score",  # the benchmark trains and scores itself, measured
        "--open-share",
        "0.5",  # 100,000 leads, about 50,000 closed
    ]
    if subprocess.run(cmd, check=False).returncode:
        raise SystemExit("the data generator failed")
    return time.perf_counter() - started


def _database_exists(conf, name):
    import suite  # noqa: PLC0415

    suite.RUN_CONF = Path(conf)
    return suite.database_exists(name)


@contextlib.contextmanager
def _suite_columns_without(env, keys):
    """While the block runs, the suite's facts lack the columns ``keys`` (its model learns without them)."""
    cls = type(env["crm.lead"])
    own = "_scoring_columns" in cls.__dict__
    original = cls._scoring_columns

    def _scoring_columns(self, *args, **kwargs):
        return [column for column in original(self, *args, **kwargs) if column.key not in keys]

    cls._scoring_columns = _scoring_columns
    try:
        yield
    finally:
        if own:
            cls._scoring_columns = original
        else:
            del cls._scoring_columns


def _quality_on_generator(env):
    """The suite, Odoo's naive Bayes and the references on one stratified 70/30 split of the closed
    leads, with every fact (``all``) and without the engagement and the other addons' facts
    (``noeng``). Returns ``({case: mean}, learned from, measured)``."""
    from bench_scoring import lead_columns, measures, reference_runs  # noqa: PLC0415
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    from odoo.addons.crm_lead_scoring.engine import model as learning  # noqa: PLC0415

    Lead = env["crm.lead"]
    company = env.company
    closed = Lead._scoring_closed_lead_ids(company)
    env.cr.execute("SELECT id, won_status FROM crm_lead WHERE id = ANY(%s) ORDER BY id", [list(closed)])
    saved = env.cr.fetchall()
    ids = [row[0] for row in saved]
    won = np.array([1 if row[1] == "won" else 0 for row in saved])
    train_idx, test_idx = train_test_split(np.arange(len(ids)), test_size=0.3, stratify=won, random_state=0)
    train_ids = [ids[i] for i in train_idx]
    test_ids = [ids[i] for i in test_idx]
    y_train, y_test = won[train_idx], won[test_idx]
    # the test leads measured as closed (each at its closing date), as the training leads are
    train_columns = lead_columns(env, train_ids)
    test_columns = lead_columns(env, test_ids)
    now = env.cr.now()
    # what other addons add (the ERP facts of crm_customer_360): the keys crm_lead_scoring does not make
    others = {column.key for column in Lead._scoring_extra_columns(Lead._scoring_rows(train_ids[:1], now), now)}
    cases = {"all": set(), "noeng": ENGAGEMENT | others}
    runs = {}
    Model = env["crm.lead.scoring.model"]
    for case, dropped in cases.items():
        use = [c for c in train_columns if c.key not in dropped]
        use_test = [c for c in test_columns if c.key not in dropped]
        with Timer() as timer, _suite_columns_without(env, dropped):
            record = Model._train_scope(company, env["crm.team"], train_ids, seed=0)
            p = learning.Predictor(record.payload).predict(use_test)
        runs[case] = {"suite": (measures(y_test, p), timer.seconds)}
        runs[case].update(reference_runs(use, y_train, use_test, y_test, seed=0))
        print(f"    {case}: {len(use)} facts, without {', '.join(sorted(dropped)) or 'none'}", flush=True)
    # Odoo: the test leads reopened, frequencies rebuilt from the training leads only; it reads
    # neither engagement nor ERP facts, so one run serves both cases
    open_stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    env.flush_all()
    env.cr.execute(
        "UPDATE crm_lead SET won_status='pending', active=true, probability=10, automated_probability=10,"
        " stage_id=%s, date_closed=NULL WHERE id = ANY(%s)",
        [open_stage.id, test_ids],
    )
    env.invalidate_all()
    params = env["ir.config_parameter"].sudo()
    params.set_param("crm.pls_start_date", "2000-01-01")
    with Timer() as timer:
        Lead._rebuild_pls_frequency_table()
        probabilities, _tooltip = Lead.browse(test_ids)._pls_get_naive_bayes_probabilities(batch_mode=True)
    odoo_run = (measures(y_test, [probabilities.get(i, 0.0) / 100.0 for i in test_ids]), timer.seconds)
    env.cr.rollback()  # the closed leads get their outcome back, the models trained here go
    env.invalidate_all()
    means = {case: mean_runs({who: [r] for who, r in {**run, "odoo": odoo_run}.items()}) for case, run in runs.items()}
    return means, len(train_ids), len(test_ids)


def _create_leads(env, count, context):
    Lead = env["crm.lead"].with_context(**context)
    tag = env["crm.tag"].search([], limit=1)
    env.flush_all()
    with count_queries(env.cr) as queries, Timer() as timer:
        for i in range(count):
            Lead.create(
                {
                    "name": f"Bench lead {i}",
                    "email_from": f"buyer{i}@bench{i % 50}.com",
                    "expected_revenue": 1000 + i,
                    "tag_ids": [(6, 0, tag.ids)],
                }
            )
        env.flush_all()
    return timer.seconds / count * 1000, queries["queries"] / count


def _rescore(env, label):
    env.cr.execute("SELECT count(*) FROM crm_lead_score_history")
    history_before = env.cr.fetchone()[0]
    with Timer() as timer, count_all_queries() as queries:
        done = env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=True)
    env.cr.execute(
        "SELECT count(*) FILTER (WHERE score_grade IS NOT NULL), count(*) FROM crm_lead WHERE won_status = 'pending'"
    )
    graded, open_count = env.cr.fetchone()
    env.cr.execute("SELECT count(*) FROM crm_lead_score_history")
    history = env.cr.fetchone()[0] - history_before
    print(
        f"  {label}: {done} open leads in {timer.seconds:.1f} s = {done / timer.seconds:.0f} leads/s, "
        f"{queries['queries'] / max(done, 1) * 1000:.1f} queries per 1,000 leads (every cursor counted), "
        f"{graded}/{open_count} graded, {history} history rows, peak RSS {peak_rss_mb():.0f} MB"
    )
    return timer.seconds


def _odoo_recompute(env, open_count, label):
    company = env.company
    drives = company.scoring_drives_probability
    company.scoring_drives_probability = False
    env.cr.commit()
    with Timer() as timer, count_all_queries() as queries:
        env["crm.lead"]._cron_update_automated_probabilities()
    company.scoring_drives_probability = drives
    env.cr.commit()
    print(
        f"  Odoo's _cron_update_automated_probabilities{label} on the same {open_count} open leads: "
        f"{timer.seconds:.1f} s = {open_count / timer.seconds:.0f} leads/s, "
        f"{queries['queries'] / max(open_count, 1) * 1000:.1f} queries per 1,000 leads"
    )
    return timer.seconds


def bench_speed(conf, leads, keep, reuse=False):
    print(f"Speed: database with {leads} generated leads")
    if reuse and _database_exists(conf, DB_SPEED):
        # a database kept by an earlier run (``--keep``): the generator is deterministic
        print(f"  reusing {DB_SPEED} as generated by an earlier run (its scores and models cleared)")
        with odoo_env(conf, DB_SPEED) as env:
            env.cr.execute(
                "UPDATE crm_lead SET score = NULL, score_grade = NULL, score_source = NULL, score_explanation = NULL,"
                " score_model_id = NULL, score_date = NULL WHERE score_grade IS NOT NULL OR score_model_id IS NOT NULL"
            )
            env.cr.execute("DELETE FROM crm_lead_score_history")
            env.cr.execute("DELETE FROM crm_lead_scoring_model")
            env.cr.execute("ANALYZE crm_lead")
            env.cr.commit()
    else:
        fresh_database(conf, DB_SPEED, SUITE)
        seconds = _generate(conf, leads)
        print(f"  generated in {seconds:.0f} s")
    summary = {}
    with odoo_env(conf, DB_SPEED) as env:
        Lead = env["crm.lead"]
        company = env.company
        env.cr.execute("SELECT won_status, count(*) FROM crm_lead GROUP BY won_status")
        print("  leads by outcome:", dict(env.cr.fetchall()))

        means, n_train, n_test = _quality_on_generator(env)
        for case, mean in means.items():
            print_case(f"  generator leads, {case}: {n_train} learned from, {n_test} measured (one split)", mean)
            summary.update(case_summary(f"gen_{case}", mean))
        summary["gen_auc"] = means["all"]["suite"]["auc"]
        # since the noeng case: without the engagement nor the ERP facts (before: without engagement only)
        summary["gen_auc_no_engagement"] = means["noeng"]["suite"]["auc"]
        summary["gen_auc_odoo"] = means["all"]["odoo"]["auc"]

        company.scoring_min_closed_leads = 100
        with Timer() as timer, count_queries(env.cr) as queries:
            trained = env["crm.lead.scoring.model"]._train_company(company)
        env.cr.commit()
        print(
            f"  training: {len(trained)} models (company and teams) in {timer.seconds:.1f} s, "
            f"{queries['queries']} queries, company AUC {trained.filtered(lambda m: not m.team_id).auc:.3f}"
        )
        summary["train_s"] = timer.seconds

        open_count = Lead.search_count([("won_status", "=", "pending")])
        env["ir.config_parameter"].sudo().set_param("crm.pls_start_date", "2000-01-01")
        env.cr.commit()
        # Odoo's job as Odoo ships it: this addon's override (the score put back into the
        # probability, one UPDATE) is switched off so that it does not count against Odoo
        odoo_s = _odoo_recompute(env, open_count, "")

        first = _rescore(
            env, "first scoring (no lead scored yet: every open lead gets a score, a grade and an explanation)"
        )
        env.cr.execute("SELECT max(score_date) FROM crm_lead")
        next_day = env.cr.fetchone()[0] + timedelta(days=1)
        # the daily job: a day later, every fact aged (days in stage, engagement decay)
        with freeze_time(next_day, ignore=["_common"]):
            daily = _rescore(env, "daily full rescoring, a day later (every open lead recomputed)")
        odoo_again_s = _odoo_recompute(env, open_count, " (again)")
        summary.update(
            rescore_s=daily,
            rescore_odoo_s=min(odoo_s, odoo_again_s),
            rescore_first_s=first,
            rescore_leads_per_s=open_count / daily,
        )

        rows = []
        for label, context in (
            ("off", {"crm_lead_scoring_skip": True}),
            ("on", {}),
            ("off", {"crm_lead_scoring_skip": True}),
            ("on", {}),
        ):
            rows.append((label, *_create_leads(env, 200, context)))
        env.cr.rollback()
        off = np.mean([ms for label, ms, _q in rows if label == "off"])
        on = np.mean([ms for label, ms, _q in rows if label == "on"])
        q_off = np.mean([q for label, _ms, q in rows if label == "off"])
        q_on = np.mean([q for label, _ms, q in rows if label == "on"])
        print(
            f"  creating a lead: {on:.1f} ms with scoring, {off:.1f} ms with it off "
            f"({(on / off - 1) * 100:+.1f} %), {q_on:.1f} vs {q_off:.1f} queries"
        )
        summary["create_ms"] = on
        summary["create_off_ms"] = off
    if not keep:
        drop_database(conf, DB_SPEED)
    return summary
