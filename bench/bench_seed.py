#!/usr/bin/env python3
"""The data generator's rate: ``make bench-seed`` (``--leads 100000`` by default, ``--keep``).

Installs the suite without demo data into ``crm_suite_bench_seed``, runs
``tools/datagen.py``'s :func:`generate` in this process (committing each
batch, lead scoring left to the scoring benchmark), and prints the records
made per model, the time, leads and records per second and the peak memory.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, arg, drop_database, fresh_database, odoo_env, peak_rss_mb  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import datagen  # noqa: E402

DB = "crm_suite_bench_seed"
SUITE = ["crm_lead_scoring", "support_desk", "sale_quote_to_cash", "crm_customer_360"]


def main(argv):
    conf = arg(argv, "-c", str(ROOT / ".local" / "odoo.conf"))
    leads = int(arg(argv, "--leads", "100000"))
    seed = int(arg(argv, "--seed", "42"))
    install_s = fresh_database(conf, DB, SUITE)
    print(f"suite installed in {install_s:.0f} s; generating {leads} leads (seed {seed})")
    started = time.perf_counter()

    def progress(label, counts):
        elapsed = time.perf_counter() - started
        done = counts.get("crm.lead", 0)
        print(f"  {elapsed:7.1f} s  {label:40} {done / elapsed if elapsed else 0:7.1f} leads/s", flush=True)

    with odoo_env(conf, DB) as env:
        counts = datagen.generate(env, leads, seed=seed, commit=True, score=False, progress=progress)
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    for name, number in sorted(counts.items()):
        print(f"  {name:24} {number:>9}")
    if "--keep" not in argv:
        drop_database(conf, DB)
    print(
        f"seed: leads={counts.get('crm.lead', 0)} records={total} seconds={seconds:.1f} "
        f"leads_per_s={counts.get('crm.lead', 0) / seconds:.1f} records_per_s={total / seconds:.1f} "
        f"peak_rss_mb={peak_rss_mb():.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
