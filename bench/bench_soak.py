#!/usr/bin/env python3
"""Soak benchmark (``make soak``): the suite as one running system, under load for a while.

Usage: ``python3 bench/bench_soak.py -c CONF [--minutes 60] [--drain-minutes 10] [--lead-rate 12]
[--lead-email-share 0.3] [--ticket-rate 4] [--accept-rate 6] [--portal-share 0.5] [--burst 1000]
[--burst-at-minute M] [--burst-portal-share 0.1] [--burst-concurrency 6] [--portal-concurrency 1]
[--jobs-at-minute M] [--force-jobs trigger|direct] [--payment-mix 30,50,20] [--sla-minutes 3,5,15]
[--port 8176] [--poll 1] [--seed 42] [--reuse] [--keep]``

How long: the preparation takes about 8 minutes on 2 shared cores (install 4, seed 2, soak data 2,
for the default burst of 1,000 quotations); then the load, the rest of a burst still being sent,
and the drain (at most ``--drain-minutes``): ``--minutes 5`` took 37 minutes in all on a machine
loaded by other work (load average 10 to 14).

A benchmark, not a test: it prints what it measured and ends with one ``SOAK: key=value ...``
line. Exit code: 0 when it ran and found no stuck work and no error in the server log; 1 when it
ran and found stuck work or errors or tracebacks in the server log (the issue asks for 0 of each:
the figures above say which); 2 when it could not run (preparation, server start, load process).

Preparation
    ``crm_suite_soak_base``: the four addons installed without demo data, then a small company
    seeded by ``tools/datagen.py --size small`` (about 4.5 minutes on 2 shared cores; ``--reuse``
    takes it as it is when a run with ``--keep`` left it). It is copied (template and filestore)
    to ``crm_suite_soak``, where the soak's own data is made through the ORM: an alias domain
    (``soak.example``) with a support team alias (24/7 team, round robin among four agents, an SLA
    policy of ``--sla-minutes`` for the first reply, next reply and resolution) and a CRM team
    alias; API keys for the administrator, a salesperson and the agents; portal users for a dozen
    customer contacts; three products with stock; a workflow profile that delivers, invoices and
    matches by itself (credit limit to approval: one customer has a limit of 1, so its orders are
    parked with the reason); the quotations the acceptances need (sent; those of the portal
    customers to sign, with their access token). The crons are left as an installed database has
    them, except: the ones that would reach outside this machine (publisher warranty, IAP lead
    enrichment, snailmail, SMS queue) are off; the overdue ones are moved to their next interval
    and the daily jobs (rescoring, training, health) to tomorrow, so that the daily jobs run only
    when the load forces them.

The server
    ``python3 bench/soak_server.py -c CONF -d crm_suite_soak --db-filter=^crm_suite_soak$ --workers=2
    --max-cron-threads=2 --http-port=PORT --gevent-port=<free> --logfile=.local/soak-server.log
    --log-level=info --smtp=127.0.0.1 --smtp-port=<sink>`` (Odoo's command line, as ``python3 -m odoo``
    but from a file, so that the master can start its gevent process; ``ODOO_BIN`` is used when
    set): prefork as in production, Odoo's
    default limits (HTTP workers: 60 s of CPU and 120 s of real time per request, 2048/2560 MiB of
    memory; cron workers: the same 120 s of real time, since ``limit_time_real_cron`` is -1, and
    60 s of CPU for each pass over the database's ready jobs), outgoing mail to an SMTP sink of
    this process (it counts the messages). Portal signatures need ``wkhtmltopdf`` (sale's accept
    route renders the signed PDF): without it they are left out and the figures say so.

The load (``bench/soak_load.py``, a separate process, HTTP only): see that file. New work is
offered for ``--minutes``; then the drain lets the system finish (payments still arrive) until
nothing is left or ``--drain-minutes`` have passed after the last offered work.

Measured (a read-only connection polls the database every ``--poll`` seconds; the server log is
read for crons, errors and conflicts; ``psutil`` reads the memory of the server's processes):

- per capability, work offered, done, parked (with a reason) and stuck (left over after the
  drain, with where it waits): every new lead scored, every ticket with its SLA lines, every due
  SLA line handled (a line whose deadline passed more than the SLA check's interval and a minute
  before the end and that is still ongoing is stuck), every accepted order paid or parked with a
  reason;
- latencies p50/p95: lead created (``create_date``) to scored (seen scored); acceptance (the
  client's answer) to confirmed; confirmed to paid; deadline passed to breach handled (the line
  no longer ongoing), all seen by the poll (to the ``--poll`` interval);
- cron runs (Odoo's "Job ... done" log lines): per job, runs, their outcome and durations, and the
  jobs started and never finished (a killed worker); the daily jobs' delay after being forced;
- memory: peak RSS per kind of process (HTTP and cron workers, the gevent process, the master,
  wkhtmltopdf); database size growth and the tables that grew most;
- the server log: ERROR and CRITICAL lines, tracebacks (the first lines of each kind), warnings;
  serialization conflicts retried (Odoo's "SERIALIZATION_FAILURE, N tries left" lines and its
  kin), deadlocks counted by PostgreSQL; worker limits reached; HTTP requests by route (count,
  server time p50/p95 from Odoo's request log);
- the client's side: requests refused, client errors, emails sent by the server.

``--keep`` keeps both databases; otherwise they are dropped at the end. The server log, the load's
events and output and the spec stay under ``.local/soak-*`` until the next run.
"""

import argparse
import calendar
import collections
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ROOT, copy_database, drop_database, fresh_database, odoo_env

sys.path.insert(0, str(ROOT / "tools"))
import suite  # noqa: E402

BASE_DB = "crm_suite_soak_base"
DB = "crm_suite_soak"
SUITE = ["crm_lead_scoring", "support_desk", "sale_quote_to_cash", "crm_customer_360"]
ALIAS_DOMAIN = "soak.example"
LOCAL = ROOT / ".local"
LAUNCHER = ROOT / "bench" / "soak_server.py"
DAILY_JOBS = {
    "rescoring": "crm_lead_scoring.ir_cron_scoring_rescore",
    "training": "crm_lead_scoring.ir_cron_scoring_train",
    "health": "crm_customer_360.ir_cron_c360_health",
}
OUTSIDE_CRONS = (
    "mail.ir_cron_module_update_notification",
    "crm_iap_enrich.ir_cron_lead_enrichment",
    "snailmail.snailmail_print",
    "sms.ir_cron_sms_scheduler_action",
)
MAIL_CONTEXT = {"tracking_disable": True, "mail_create_nolog": True, "mail_create_nosubscribe": True}
PORTAL_PASSWORD = "soak-portal-1234"  # noqa: S105 - a throwaway database's portal users
SETTLED_STATES = ("blocked", "approval", "exception")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("-c", "--config", default=str(LOCAL / "odoo.conf"))
    add("--minutes", type=float, default=60.0, help="minutes of load (default 60)")
    add("--drain-minutes", type=float, default=10.0, help="at most this long to finish after the load")
    add("--lead-rate", type=float, default=12.0, help="new leads a minute")
    add("--lead-email-share", type=float, default=0.3, help="share of the leads that come by email")
    add("--ticket-rate", type=float, default=4.0, help="new tickets (customer emails) a minute")
    add("--unanswered-share", type=float, default=0.15, help="tickets no agent answers")
    add("--late-share", type=float, default=0.1, help="tickets answered after the first-reply target")
    add("--accept-rate", type=float, default=6.0, help="steady acceptances a minute")
    add("--portal-share", type=float, default=0.5, help="share of the steady acceptances signed on the portal")
    add("--burst", type=int, default=1000, help="acceptances at once (0: none)")
    add("--burst-at-minute", type=float, help="when the burst comes (default: a third of the way)")
    add("--burst-portal-share", type=float, default=0.1, help="share of the burst signed on the portal")
    add("--burst-concurrency", type=int, default=6, help="connections of the salesperson acceptances of a burst")
    add("--portal-concurrency", type=int, default=1, help="portal signatures at once (PDF rendering)")
    add("--jobs-at-minute", type=float, help="when the daily jobs are forced (default: half way)")
    add("--force-jobs", choices=("trigger", "direct"), default="trigger", help="cron trigger or method_direct_trigger")
    add("--payment-mix", default="30,50,20", help="%% paid by transfer before, register wizard, transfer after")
    add("--sla-minutes", default="3,5,15", help="SLA targets: first reply, next reply, resolution (minutes)")
    add("--port", type=int, default=8176)
    add("--poll", type=float, default=1.0, help="seconds between two polls of the database")
    add("--progress", type=float, default=60.0, help="seconds between two progress lines")
    add("--seed", type=int, default=42)
    add("--reuse", action="store_true", help="reuse crm_suite_soak_base when it exists")
    add("--keep", action="store_true", help="keep the databases and the files of the run")
    add("--prepare", metavar="SPEC_OUT", help=argparse.SUPPRESS)  # internal: the soak data, in a process of its own
    opts = parser.parse_args(argv)
    if opts.burst_at_minute is None:
        opts.burst_at_minute = opts.minutes / 3
    if opts.jobs_at_minute is None:
        opts.jobs_at_minute = opts.minutes / 2
    prepay, register, transfer = (float(x) for x in opts.payment_mix.split(","))
    total = prepay + register + transfer
    opts.mix = {"prepay": prepay / total, "register": register / total, "transfer": transfer / total}
    targets = [float(x) for x in opts.sla_minutes.split(",")]
    opts.sla = dict(zip(("first_reply", "next_reply", "resolution"), targets, strict=True))
    opts.url = f"http://127.0.0.1:{opts.port}"
    opts.has_wkhtmltopdf = bool(shutil.which("wkhtmltopdf"))
    if not opts.has_wkhtmltopdf:
        opts.portal_share = opts.burst_portal_share = 0.0
    return opts


def order_counts(opts):
    """How many quotations of each kind the acceptances need (a margin for the steady stream's jitter)."""
    steady = math.ceil(opts.accept_rate * opts.minutes * 1.1) + 5
    burst_portal = round(opts.burst * opts.burst_portal_share)
    return {
        "steady_portal": math.ceil(steady * opts.portal_share),
        "steady_sales": steady,
        "burst_portal": burst_portal,
        "burst_sales": opts.burst - burst_portal,
    }


# ---------------------------------------------------------------------------
# Preparation: the base database, its copy, the soak's own data
# ---------------------------------------------------------------------------


def ensure_base(conf, reuse):
    """``(install seconds, seed seconds)``; ``None`` when reused."""
    suite.RUN_CONF = Path(conf)
    if reuse and suite.database_ready(BASE_DB):
        print(f"reusing {BASE_DB}", flush=True)
        return None
    install = fresh_database(conf, BASE_DB, SUITE)
    started = time.perf_counter()
    cmd = [sys.executable, str(ROOT / "tools" / "datagen.py"), "-c", str(conf), "-d", BASE_DB, "--size", "small"]
    seeding = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if seeding.returncode:
        sys.stderr.write(seeding.stdout[-3000:] + seeding.stderr[-5000:])
        raise SystemExit(2)
    return install, time.perf_counter() - started


def settle_crons(env, spec):
    """The crons as a running database has them: no overdue job at start, daily jobs only when forced."""
    from dateutil.relativedelta import relativedelta  # noqa: PLC0415 - an Odoo dependency

    from odoo.addons.base.models.ir_cron import _intervalTypes  # noqa: PLC0415

    now = datetime.now(UTC).replace(tzinfo=None)
    for xmlid in OUTSIDE_CRONS:
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron:
            cron.active = False
    daily = {name: env.ref(xmlid) for name, xmlid in DAILY_JOBS.items()}
    for cron in env["ir.cron"].search([("active", "=", True)]):
        if cron in daily.values():
            cron.nextcall = now + relativedelta(days=1)
        elif cron.nextcall < now:
            cron.nextcall = now + _intervalTypes[cron.interval_type](cron.interval_number)
    env["ir.cron.trigger"].search([]).unlink()  # the seeding's triggers would run everything at the start
    sla = env.ref("support_desk.ir_cron_sla_check")
    spec["crons"] = {str(cron.id): cron.cron_name for cron in env["ir.cron"].with_context(active_test=False).search([])}
    spec["daily_jobs"] = {name: cron.id for name, cron in daily.items()}
    spec["sla_interval_s"] = _intervalTypes[sla.interval_type](sla.interval_number).minutes * 60 or 300


def users_and_keys(env, spec):
    """The external clients: the administrator, a salesperson, the support agents, each with an API key."""
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=3)
    admin = env.ref("base.user_admin")
    admin.group_ids = [
        (4, env.ref("account.group_account_manager").id),
        (4, env.ref("sales_team.group_sale_manager").id),
    ]
    people = env["res.users"].search([("login", "like", "datagen.sales.%")], order="id")
    salesperson, agents = people[0], people[1:]

    def key(user):
        return env["res.users.apikeys"].with_user(user).sudo()._generate(None, "crm-suite soak", expiry)

    spec["keys"] = {"admin": key(admin), "sales": key(salesperson), "agents": {str(a.id): key(a) for a in agents}}
    return salesperson, agents


def mail_setup(env, spec, opts, salesperson, agents):
    """The alias domain, the support team and its SLA policy, the CRM team: both reached by email."""
    domain = env["mail.alias.domain"].search([("name", "=", ALIAS_DOMAIN)], limit=1) or env["mail.alias.domain"].create(
        {"name": ALIAS_DOMAIN}
    )
    env.company.alias_domain_id = domain
    team = (
        env["support.team"]
        .with_context(**MAIL_CONTEXT)
        .create(
            {
                "name": "Soak Desk",
                "working_time": "always",
                "member_ids": [(6, 0, agents.ids)],
                "leader_id": agents[0].id,
                "assignment_method": "round_robin",
                "alias_name": "soak-support",
            }
        )
    )
    team.alias_id.write({"alias_domain_id": domain.id, "alias_contact": "everyone"})
    env["support.sla"].create(
        {
            "name": "Soak SLA",
            "sequence": 0,
            "team_ids": [(6, 0, team.ids)],
            "escalate_to_leader": True,
            "target_ids": [
                (0, 0, {"metric": metric, "priority": priority, "hours": minutes / 60.0})
                for metric, minutes in opts.sla.items()
                for priority in "0123"
            ],
        }
    )
    crm_team = env["crm.team"].create(
        {"name": "Soak Leads", "alias_name": "soak-leads", "member_ids": [(6, 0, salesperson.ids)]}
    )
    crm_team.alias_id.write({"alias_domain_id": domain.id, "alias_contact": "everyone"})
    countries = env["res.country"].search([("code", "in", ["BE", "FR", "DE", "NL", "US"])]).ids
    spec["ticket"] = {
        "alias": team.alias_id.alias_full_name,
        "team_id": team.id,
        "waiting_stage_id": env.ref("support_desk.stage_waiting").id,
        "rate": opts.ticket_rate,
        "unanswered_share": opts.unanswered_share,
        "late_share": opts.late_share,
    }
    spec["lead"] = {
        "alias": crm_team.alias_id.alias_full_name,
        "team_id": crm_team.id,
        "countries": countries,
        "rate": opts.lead_rate,
        "email_share": opts.lead_email_share,
    }
    return crm_team


def soak_products(env, stock_qty):
    from odoo import Command  # noqa: PLC0415

    def product(name, price, cost, kind="consu", storable=False, policy="order"):
        return env["product.product"].create(
            {
                "name": name,
                "type": kind,
                "is_storable": storable,
                "invoice_policy": policy,
                "list_price": price,
                "standard_price": cost,
            }
        )

    products = [
        product("Soak desk", 320.0, 190.0, storable=True),
        product("Soak chair", 85.0, 41.0, storable=True, policy="delivery"),
        product("Soak installation", 120.0, 0.0, kind="service"),
    ]
    stock = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).lot_stock_id
    env["stock.quant"].with_context(inventory_mode=True).create(
        [{"product_id": p.id, "location_id": stock.id, "inventory_quantity": stock_qty} for p in products[:2]]
    ).action_apply_inventory()
    return products, Command


def customers(env, spec):
    """The companies the salesperson sells to, the portal users among their contacts, the ticket senders."""
    companies = env["res.partner"].search([("is_company", "=", True), ("customer_rank", ">", 0)], order="id")
    contacts = env["res.partner"].search(
        [("parent_id", "in", companies.ids), ("email", "!=", False), ("is_company", "=", False)], order="id"
    )
    spec["ticket"]["contacts"] = [[c.name, c.email] for c in contacts]
    portal_group = env.ref("base.group_portal")
    parked = companies[-1]  # its credit limit of 1 sends its orders to approval: parked with the reason
    parked.with_company(env.company).credit_limit = 1.0
    portal_contacts = env["res.partner"]
    for company in companies - parked:
        person = contacts.filtered(lambda c, co=company: c.parent_id == co)[:1]
        if person and len(portal_contacts) < 12:
            portal_contacts |= person
    users = (
        env["res.users"]
        .with_context(no_reset_password=True, **MAIL_CONTEXT)
        .create(
            [
                {
                    "name": person.name,
                    "login": person.email,
                    "password": PORTAL_PASSWORD,
                    "partner_id": person.id,
                    "group_ids": [(6, 0, portal_group.ids)],
                }
                for person in portal_contacts
            ]
        )
    )
    return companies - parked, parked, users


def quotations(env, spec, opts, crm_team, salesperson):
    """The sent quotations the acceptances take, by kind; the portal ones to sign, with their token."""
    counts = order_counts(opts)
    total = sum(counts.values())
    products, Command = soak_products(env, 10 * total + 100)
    companies, parked, portal_users = customers(env, spec)
    rng = random.Random(opts.seed)
    plans = []
    for kind, count in counts.items():
        for index in range(count):
            if kind.endswith("portal"):
                partner = portal_users[index % len(portal_users)].partner_id
            else:
                partner = parked if rng.random() < 0.03 else rng.choice(companies)
            plans.append((kind, partner))
    Order = env["sale.order"].with_context(**MAIL_CONTEXT)
    orders = env["sale.order"]
    for start in range(0, len(plans), 100):
        orders |= Order.create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": salesperson.id,
                    "team_id": crm_team.id,
                    "require_signature": kind.endswith("portal"),
                    "require_payment": False,
                    "order_line": [
                        Command.create({"product_id": p.id, "product_uom_qty": rng.randint(1, 3)}) for p in products
                    ],
                }
                for kind, partner in plans[start : start + 100]
            ]
        )
    orders.write({"state": "sent"})
    by_kind = collections.defaultdict(list)
    login_of = {user.partner_id.id: user.login for user in portal_users}
    for (kind, partner), order in zip(plans, orders, strict=True):
        item = {
            "id": order.id,
            "name": order.name,
            "amount": order.amount_total,
            "payer_id": partner.commercial_partner_id.id,
            "signer": partner.name,
        }
        if kind.endswith("portal"):
            order.message_subscribe(partner_ids=partner.ids)
            item.update(token=order._portal_ensure_token(), login=login_of[partner.id], password=PORTAL_PASSWORD)
        by_kind[kind].append(item)
    journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1)
    spec["accept"] = {
        **{kind: by_kind[kind] for kind in counts},
        "rate": opts.accept_rate,
        "portal_share": opts.portal_share,
        "burst": opts.burst,
        "burst_concurrency": opts.burst_concurrency,
        "portal_concurrency": max(1, opts.portal_concurrency),
    }
    spec["pay"] = {"mix": opts.mix, "journal_id": journal.id, "poll": 3}
    spec["parked_customer"] = parked.name
    spec["portal_users"] = len(portal_users)


def q2c_profile(env):
    profile = env["sale.q2c.profile"].create(
        {
            "name": "Soak",
            "company_id": env.company.id,
            "credit_check": "approval",
            "auto_confirm": True,
            "auto_deliver": True,
            "auto_invoice": True,
            "auto_post": True,
            "auto_send": False,
            "auto_match": True,
            "auto_lock": True,
            "start_on_confirm": False,
        }
    )
    env.company.q2c_profile_id = profile


def prepare(opts):
    """The soak's own data in ``crm_suite_soak`` (in a process of its own), written to ``opts.prepare``."""
    spec = {}
    with odoo_env(opts.config, DB) as env:
        params = env["ir.config_parameter"].sudo()
        params.set_param("web.base.url", opts.url)
        params.set_param("web.base.url.freeze", "True")
        settle_crons(env, spec)
        salesperson, agents = users_and_keys(env, spec)
        crm_team = mail_setup(env, spec, opts, salesperson, agents)
        q2c_profile(env)
        quotations(env, spec, opts, crm_team, salesperson)
        env.flush_all()
        base = {}
        for table in ("crm_lead", "support_ticket", "support_ticket_sla", "sale_order", "mail_message"):
            env.cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - our own table names
            base[table] = env.cr.fetchone()[0]
        spec["base"] = base
        env.cr.commit()
    Path(opts.prepare).write_text(json.dumps(spec))


# ---------------------------------------------------------------------------
# The server and its SMTP sink
# ---------------------------------------------------------------------------


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Odoo's outgoing mail: every message accepted and counted."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages = 0
        self.recipients = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 soak-sink ESMTP")
        in_data = False
        while line := self.rfile.readline():
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    in_data = False
                    with self.server.lock:
                        self.server.messages += 1
                    self.reply("250 queued")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-soak-sink")
                self.reply("250 8BITMIME")
            elif verb == b"DATA":
                in_data = True
                self.reply("354 go ahead")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                if verb == b"RCPT":
                    with self.server.lock:
                        self.server.recipients += 1
                self.reply("250 ok")


def start_server(opts, logfile, smtp_port):
    # not ``python3 -m odoo``: see bench/soak_server.py (ODOO_BIN, when set, is used as it is)
    launcher = [os.environ["ODOO_BIN"]] if os.environ.get("ODOO_BIN") else [sys.executable, str(LAUNCHER)]
    cmd = [
        *launcher,
        "-c",
        str(opts.config),
        "-d",
        DB,
        f"--db-filter=^{DB}$",
        "--workers=2",
        "--max-cron-threads=2",
        f"--http-port={opts.port}",
        f"--gevent-port={free_port()}",
        f"--logfile={logfile}",
        "--log-level=info",
        "--smtp=127.0.0.1",
        f"--smtp-port={smtp_port}",
    ]
    out = (LOCAL / "soak-server.out").open("w")
    # a session of its own: the master, its workers and their wkhtmltopdf are stopped together
    return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True), cmd


def wait_ready(opts, server, timeout=300):
    import requests  # noqa: PLC0415

    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped at start (rc {server.returncode}): see .local/soak-server.*")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{opts.url}/web/health", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"the server did not answer on {opts.url} within {timeout} s")


def warm_up(opts, spec):
    """A few authenticated calls, so that the first measured requests do not pay for the workers' caches."""
    import requests  # noqa: PLC0415

    headers = {"Authorization": f"bearer {spec['keys']['admin']}", "X-Odoo-Database": DB}
    for _ in range(4):
        response = requests.post(
            f"{opts.url}/json/2/res.partner/search_count", json={"domain": []}, headers=headers, timeout=120
        )
        if response.status_code != 200:
            raise RuntimeError(f"the server refuses the administrator's API key: {response.text[:300]}")


def stop_server(server):
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(30)


# ---------------------------------------------------------------------------
# Measures: a read-only poll of the database, the processes' memory
# ---------------------------------------------------------------------------


def epoch(moment):
    """A UTC timestamp of the database (naive) as ``time.time()`` counts."""
    return calendar.timegm(moment.timetuple()) + moment.microsecond / 1e6 if moment else None


def read_only_connection():
    conn = suite.db_connection(DB)
    with conn.cursor() as cr:
        cr.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    return conn


class Watcher(threading.Thread):
    """Timestamps of the state changes the latencies are made of, seen every ``poll`` seconds."""

    def __init__(self, spec, server_pid, poll):
        super().__init__(name="watcher", daemon=True)
        self.base = spec["base"]
        self.order_ids = [
            o["id"]
            for kind in ("steady_portal", "steady_sales", "burst_portal", "burst_sales")
            for o in spec["accept"][kind]
        ]
        self.team_id = spec["ticket"]["team_id"]
        self.server_pid = server_pid
        self.poll = poll
        self.leads = {}  # id -> [created, scored seen]
        self.orders = {}  # id -> {"confirmed": t, "paid": t, "state": (state, q2c_state, reason)}
        self.tickets = {}  # id -> [created, SLA lines seen]
        self.due = {}  # SLA line id -> [deadline, handled seen, state then]
        self.rss = {}  # pid -> [name, peak bytes]
        self.rss_total = 0
        self.db_sizes = []
        self.errors = collections.Counter()
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        conn, ticks = None, 0
        while not self.stop.is_set():
            started = time.time()
            try:
                conn = conn or read_only_connection()
                with conn.cursor() as cr, self.lock:
                    self.poll_once(cr, started, ticks)
            except Exception as error:  # noqa: BLE001 - a failed poll is counted, the next one reconnects
                self.errors[type(error).__name__] += 1
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
            self.memory()
            ticks += 1
            self.stop.wait(max(0.0, self.poll - (time.time() - started)))
        if conn:
            conn.close()

    def poll_once(self, cr, now, ticks):
        self.poll_leads(cr, now)
        self.poll_orders(cr, now)
        self.poll_tickets(cr, now)
        self.poll_sla(cr, now)
        if ticks % 15 == 0:
            cr.execute("SELECT pg_database_size(current_database())")
            self.db_sizes.append((now, cr.fetchone()[0]))

    def poll_leads(self, cr, now):
        unscored = [i for i, (_c, scored) in self.leads.items() if scored is None]
        cr.execute(
            """SELECT id, create_date, NOT score_pending AND score_date IS NOT NULL OR won_status <> 'pending'
                 FROM crm_lead WHERE id > %s AND (id > %s OR id = ANY(%s))""",
            [self.base["crm_lead"], max(self.leads, default=0), unscored],
        )
        for lead_id, created, scored in cr.fetchall():
            entry = self.leads.setdefault(lead_id, [epoch(created), None])
            if scored and entry[1] is None:
                entry[1] = now

    def poll_orders(self, cr, now):
        open_ids = [i for i in self.order_ids if "paid" not in self.orders.get(i, {})]
        cr.execute(
            """SELECT id, state, q2c_state, q2c_paid_on IS NOT NULL,
                      q2c_blocked_reason IS NOT NULL OR q2c_exception_reason IS NOT NULL
                 FROM sale_order WHERE id = ANY(%s) AND q2c_state IS NOT NULL""",
            [open_ids],
        )
        for order_id, state, q2c_state, paid, reason in cr.fetchall():
            entry = self.orders.setdefault(order_id, {})
            entry["state"] = (state, q2c_state, reason)
            if state == "sale":
                entry.setdefault("confirmed", now)
            if paid:
                entry.setdefault("paid", now)

    def poll_tickets(self, cr, now):
        waiting = [i for i, (_c, seen) in self.tickets.items() if seen is None]
        cr.execute(
            """SELECT t.id, t.create_date, EXISTS (SELECT 1 FROM support_ticket_sla s WHERE s.ticket_id = t.id)
                 FROM support_ticket t WHERE t.id > %s AND t.team_id = %s AND (t.id > %s OR t.id = ANY(%s))""",
            [self.base["support_ticket"], self.team_id, max(self.tickets, default=0), waiting],
        )
        for ticket_id, created, has_lines in cr.fetchall():
            entry = self.tickets.setdefault(ticket_id, [epoch(created), None])
            if has_lines and entry[1] is None:
                entry[1] = now

    def poll_sla(self, cr, now):
        cr.execute(
            """SELECT id, deadline FROM support_ticket_sla
                WHERE state = 'ongoing' AND deadline <= (now() AT TIME ZONE 'UTC')"""
        )
        for line_id, deadline in cr.fetchall():
            self.due.setdefault(line_id, [epoch(deadline), None, None])
        tracked = [i for i, (_d, handled, _s) in self.due.items() if handled is None]
        cr.execute(
            """SELECT id, state, deadline > (now() AT TIME ZONE 'UTC') FROM support_ticket_sla
                WHERE id = ANY(%s) AND (state <> 'ongoing' OR deadline > (now() AT TIME ZONE 'UTC'))""",
            [tracked],
        )
        for line_id, state, moved in cr.fetchall():
            self.due[line_id][1:] = [now, "deadline moved" if state == "ongoing" and moved else state]

    def memory(self):
        import psutil  # noqa: PLC0415

        try:
            master = psutil.Process(self.server_pid)
            processes = [master, *master.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for process in processes:
            try:
                rss = process.memory_info().rss
                name = process.name()
                cmdline = " ".join(process.cmdline())
            except psutil.Error:
                continue
            if "gevent" in cmdline.split():
                name = "gevent"
            entry = self.rss.setdefault(process.pid, [name, 0])
            entry[1] = max(entry[1], rss)
            total += rss
        self.rss_total = max(self.rss_total, total)


def db_figures(conn):
    with conn.cursor() as cr:
        cr.execute("SELECT pg_database_size(current_database())")
        size = cr.fetchone()[0]
        cr.execute(
            """SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r'"""
        )
        tables = dict(cr.fetchall())
        cr.execute(
            "SELECT deadlocks, xact_rollback, xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        deadlocks, rollbacks, commits = cr.fetchone()
    return {"size": size, "tables": tables, "deadlocks": deadlocks, "rollbacks": rollbacks, "commits": commits}


# ---------------------------------------------------------------------------
# The server log
# ---------------------------------------------------------------------------

LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ (\d+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ([\w.]+): (.*)"
)
JOB_START = re.compile(r"Job (['\"])(.+)\1 \((\d+)\) starting")
JOB_END = re.compile(
    r"Job (['\"])(.+)\1 \((\d+)\) (fully done|partially done|failed) "
    r"\(#loop (\d+); done (\d+); remaining (\d+); duration ([\d.]+)s\)"
)
JOB_TIMED_OUT = re.compile(r"Job (['\"])(.+)\1 \((\d+)\) timed out")
CONSECUTIVE_TIMEOUTS = 3  # odoo.addons.base.models.ir_cron.CONSECUTIVE_TIMEOUT_FOR_FAILURE
RETRY = re.compile(r"^(\w+), (?:(\d+) tries left, try again|maximum number of tries reached)")
REQUEST = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d{3}) \S+ (\d+) ([\d.]+) ([\d.]+)')
WORKER = re.compile(r"Worker (WorkerHTTP|WorkerCron) \((\d+)\) alive")
LIMITS = re.compile(r"timeout after|CPU time limit|virtual real time limit|virtual memory limit|memory limit")
ANSI = re.compile(r"\x1b\[[\d;]*m")
CONFLICT = re.compile(r"could not serialize access|deadlock detected|could not obtain lock")


class LogScan:
    """What the server log says, read as it grows."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.levels = collections.Counter()
        self.errors = []  # (time, logger, first line): ERROR and CRITICAL records, conflicts apart
        self.conflicts = []  # (time, pid, what): the "bad query" records of a serialization failure
        self.bad_query = None  # a "bad query" record whose "ERROR: ..." line comes next
        self.tracebacks = []  # the exception line that ends each traceback
        self.jobs = collections.defaultdict(
            lambda: {"started": 0, "ends": [], "starts": [], "ends_at": [], "timed_out": 0}
        )
        self.retries = collections.Counter()
        self.requests = collections.defaultdict(list)  # route -> [seconds]
        self.statuses = collections.Counter()
        self.roles = {}
        self.limits = []
        self.stopped_at = None  # the master's "Stopping workers gracefully": runs under way then never end
        self.in_traceback = False

    def read(self):
        if not Path(self.path).exists():
            return
        with Path(self.path).open(encoding="utf-8", errors="replace") as handle:
            handle.seek(self.offset)
            while line := handle.readline():
                if not line.endswith("\n"):
                    break  # a line being written: read again next time
                self.offset = handle.tell()
                self.line(ANSI.sub("", line.rstrip("\n")))

    def line(self, text):
        match = LOG_LINE.match(text)
        if not match:
            self.continuation(text)
            return
        self.in_traceback = False
        if self.bad_query:
            self.errors.append(self.bad_query[:1] + self.bad_query[2:])
            self.bad_query = None
        stamp, pid, level, logger, message = match.groups()
        clock = stamp[11:]
        self.levels[level] += 1
        if level in ("ERROR", "CRITICAL"):
            if message.startswith("bad query:"):
                # Odoo logs every failed statement, a serialization failure it then retries too:
                # which one it was is on the next line ("ERROR: could not serialize access ...")
                self.bad_query = (clock, int(pid), logger, message[:120])
            else:
                self.errors.append((clock, logger, message[:200]))
        if logger == "werkzeug":
            self.request(message)
        elif logger == "odoo.addons.base.models.ir_cron":
            self.job(stamp, message)
        elif logger == "odoo.service.model" and (retry := RETRY.match(message)):
            self.retries[retry.group(1) if retry.group(2) else f"{retry.group(1)} (given up)"] += 1
        elif logger == "odoo.service.server":
            if worker := WORKER.search(message):
                self.roles[int(worker.group(2))] = worker.group(1)
            elif LIMITS.search(message):
                self.limits.append(f"{clock} {message[:160]}")
            elif message.startswith("Stopping workers gracefully"):
                self.stopped_at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
        elif "write conflicts in a row" in message:
            self.retries["quote to cash: conflicts in a row, retried later"] += 1

    def continuation(self, text):
        if text.startswith("Traceback (most recent call last)"):
            self.in_traceback = True
            self.tracebacks.append("?")
        elif self.bad_query and text.startswith("ERROR:"):
            clock, pid, logger, _message = self.bad_query
            if CONFLICT.search(text):
                self.conflicts.append((clock, pid, text[7:80]))
            else:
                self.errors.append((clock, logger, f"bad query: {text[:180]}"))
            self.bad_query = None
        if self.in_traceback and text and not text.startswith((" ", "Traceback", "During handling", "The above")):
            self.tracebacks[-1] = text[:200]

    def request(self, message):
        match = REQUEST.search(message)
        if not match:
            return
        _method, path, status, _queries, sql, other = match.groups()
        path = path.split("?")[0].split("#")[0]
        route = path if path.startswith("/json/2/") else re.sub(r"/\d+(?=/|$)", "/<id>", path)
        if route.startswith(("/web/assets", "/web/static", "/web/image", "/web/content")):
            route = route.split("/")[1] + "/" + route.split("/")[2] + "/..."
        self.requests[route].append(float(sql) + float(other))
        self.statuses[status[0] + "xx"] += 1

    def job(self, stamp, message):
        if start := JOB_START.search(message):
            job = self.jobs[start.group(2)]
            job["started"] += 1
            job["starts"].append(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")))  # the server's local time
        elif timed_out := JOB_TIMED_OUT.search(message):
            self.jobs[timed_out.group(2)]["timed_out"] += 1
        elif end := JOB_END.search(message):
            job = self.jobs[end.group(2)]
            job["ends"].append((end.group(4), int(end.group(6)), float(end.group(8))))
            job["ends_at"].append(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")))


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def percentile(values, share):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a (0)"
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {max(values):.1f} s (n={len(values)})"


def read_events(path):
    events = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
    return events


def final_state(spec, accepted_ids, load_end):
    """Where everything stands after the drain, read once more (not from the poll)."""
    with contextlib.closing(read_only_connection()) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT id, score_pending, score_date IS NOT NULL FROM crm_lead
                WHERE id > %s AND won_status = 'pending'""",
            [spec["base"]["crm_lead"]],
        )
        leads = cr.fetchall()
        cr.execute(
            """SELECT id, state, q2c_state, q2c_pending, q2c_paid_on IS NOT NULL,
                      COALESCE(q2c_blocked_reason, q2c_exception_reason)
                 FROM sale_order WHERE id = ANY(%s)""",
            [list(accepted_ids)],
        )
        orders = cr.fetchall()
        cr.execute(
            """SELECT t.id, t.is_closed, count(s.id) FROM support_ticket t
                 LEFT JOIN support_ticket_sla s ON s.ticket_id = t.id
                WHERE t.id > %s AND t.team_id = %s GROUP BY t.id""",
            [spec["base"]["support_ticket"], spec["ticket"]["team_id"]],
        )
        tickets = cr.fetchall()
        grace = spec["sla_interval_s"] + 60
        cr.execute(
            """SELECT count(*) FILTER (WHERE deadline < (now() AT TIME ZONE 'UTC') - %s * interval '1 second'),
                      count(*) FILTER (WHERE deadline < %s),
                      count(*)
                 FROM support_ticket_sla WHERE state = 'ongoing' AND deadline <= (now() AT TIME ZONE 'UTC')""",
            [grace, datetime.fromtimestamp(load_end, UTC).replace(tzinfo=None)],
        )
        sla_stuck, sla_due_in_load, sla_due_now = cr.fetchone()
        cr.execute(
            """SELECT state, count(*), count(*) FILTER (WHERE escalated) FROM support_ticket_sla
                WHERE ticket_id > %s GROUP BY state""",
            [spec["base"]["support_ticket"]],
        )
        sla_states = {state: (count, escalated) for state, count, escalated in cr.fetchall()}
        cr.execute(
            """SELECT count(*) FROM mail_message WHERE id > %s AND message_type = 'email'""",
            [spec["base"]["mail_message"]],
        )
        emails_in = cr.fetchone()[0]
    return {
        "leads": leads,
        "orders": orders,
        "tickets": tickets,
        "sla": (sla_stuck, sla_due_in_load, sla_due_now, grace),
        "sla_states": sla_states,
        "emails_in": emails_in,
    }


class Report:
    """The printed figures and the summary's key=value pairs, capability by capability."""

    def __init__(self, opts, spec, watcher, log, events, final, extra):
        self.opts, self.spec, self.watcher, self.log = opts, spec, watcher, log
        self.events, self.final, self.extra = events, final, extra
        self.summary = {}
        self.by_kind = collections.defaultdict(list)
        for event in events:
            self.by_kind[event["kind"]].append(event)

    def out(self, text=""):
        print(text, flush=True)

    def client_errors(self, kind):
        return collections.Counter(e.get("error", "?") for e in self.by_kind[kind] if not e.get("ok", True))

    def print_errors(self, counter, indent="    "):
        for text, count in counter.most_common(5):
            self.out(f"{indent}{count} x {text}")

    def leads(self):
        sent = self.by_kind["lead"]
        ok = [e for e in sent if e["ok"]]
        by_email = [e for e in ok if e["via"] == "email"]
        made = self.watcher.leads
        open_leads = self.final["leads"]
        stuck = [row for row in open_leads if row[1] or not row[2]]
        latencies = [s - c for c, s in made.values() if s is not None and c is not None]
        self.out(
            f"leads      offered {len(sent)} ({len(by_email)} by email to the CRM alias, {len(ok) - len(by_email)} "
            f"by JSON-RPC; {len(sent) - len(ok)} refused); made {len(made)}; scored "
            f"{sum(1 for _c, s in made.values() if s)}; stuck {len(stuck)} "
            f"(waiting in the queue {sum(1 for r in stuck if r[1])}, never queued {sum(1 for r in stuck if not r[1])})"
        )
        self.out(f"           created -> scored: {spread(latencies)}")
        self.print_errors(self.client_errors("lead"))
        self.summary.update(
            leads_offered=len(sent),
            leads_made=len(made),
            leads_stuck=len(stuck),
            lead_scored_p50_s=percentile(latencies, 0.5),
            lead_scored_p95_s=percentile(latencies, 0.95),
        )
        return len(stuck)

    def tickets(self):
        emails = self.by_kind["ticket_email"]
        agent = self.by_kind["ticket_agent"]
        tickets = self.final["tickets"]
        without = [row for row in tickets if not row[2]]
        steps = collections.Counter(e["step"] for e in emails + agent)
        self.out(
            f"tickets    offered {steps['open']} new tickets by email, {steps['customer_answer']} answers and "
            f"{steps['customer_again']} reminders by email; agents: {steps['agent_reply']} replies, "
            f"{steps['agent_waiting']} set waiting, {steps['agent_close']} resolved"
        )
        self.out(
            f"           made {len(tickets)} tickets ({sum(1 for r in tickets if r[1])} closed); with their SLA "
            f"lines {len(tickets) - len(without)}; stuck (no SLA line) {len(without)}; emails stored "
            f"{self.final['emails_in']}"
        )
        left = self.by_kind["tickets_left"]
        if left and left[0]["steps_not_played"]:
            self.out(f"           {left[0]['steps_not_played']} later steps of conversations were due after the load")
        self.print_errors(
            collections.Counter(e["error"] for e in self.by_kind["client_error"] if e["actor"].startswith("ticket"))
        )
        self.summary.update(tickets_offered=steps["open"], tickets_made=len(tickets), tickets_stuck=len(without))
        return len(without)

    def sla(self):
        stuck, due_in_load, due_now, grace = self.final["sla"]
        due = self.watcher.due
        handled = [(d, h, s) for d, h, s in due.values() if h is not None]
        latencies = [h - d for d, h, _s in handled]
        how = collections.Counter(s for _d, _h, s in handled)
        states = self.final["sla_states"]
        self.out(
            f"SLA        lines due (deadline passed while ongoing) {len(due)}; handled {len(handled)} "
            f"({', '.join(f'{k} {v}' for k, v in how.most_common()) or 'none'}); still ongoing past their deadline "
            f"{due_now} (of which due during the load {due_in_load}); stuck (past due > {grace} s) {stuck}"
        )
        self.out(f"           deadline passed -> handled: {spread(latencies)}")
        self.out(
            "           the soak tickets' lines now: "
            + ", ".join(f"{state} {count} ({esc} escalated)" for state, (count, esc) in sorted(states.items()))
        )
        self.summary.update(
            sla_due=len(due),
            sla_handled=len(handled),
            sla_stuck=stuck,
            sla_breach_p50_s=percentile(latencies, 0.5),
            sla_breach_p95_s=percentile(latencies, 0.95),
        )
        return stuck

    def orders(self):
        sent = self.by_kind["accept"]
        ok = {e["order"]: e for e in sent if e["ok"]}
        rows = {row[0]: row for row in self.final["orders"]}
        paid = [oid for oid in ok if rows.get(oid) and rows[oid][4]]
        parked = [
            oid for oid in ok if rows.get(oid) and not rows[oid][4] and rows[oid][2] in SETTLED_STATES and rows[oid][5]
        ]
        stuck = [oid for oid in ok if oid not in paid and oid not in parked]
        where = collections.Counter(
            f"{rows[oid][2] or rows[oid][1]}{', in the queue' if rows[oid][3] else ''} (to be paid by {ok[oid]['way']})"
            if oid in rows
            else "?"
            for oid in stuck
        )
        kinds = collections.Counter(f"{e['wave']} {e['channel']}" for e in sent)
        refused = collections.Counter(f"{e['wave']} {e['channel']}" for e in sent if not e["ok"])
        self.out(
            "orders     offered "
            + ", ".join(
                f"{k} {v}" + (f" ({refused[k]} refused)" if refused[k] else "") for k, v in sorted(kinds.items())
            )
        )
        seen = self.watcher.orders
        self.out(
            f"           accepted {len(ok)}; confirmed {sum(1 for oid in ok if 'confirmed' in seen.get(oid, {}))}; "
            f"paid {len(paid)}; parked with a reason {len(parked)}; stuck {len(stuck)}"
            + (f": {'; '.join(f'{v} {k}' for k, v in where.most_common())}" if stuck else "")
        )
        self.print_errors(self.client_errors("accept"))
        burst = sorted(e["t"] for e in sent if e["wave"] == "burst" and e["ok"])
        if burst:
            self.out(f"           the burst's acceptances took {burst[-1] - burst[0]:.0f} s to send")
        to_confirm = [seen[o]["confirmed"] - e["t"] for o, e in ok.items() if "confirmed" in seen.get(o, {})]
        to_paid = [seen[o]["paid"] - seen[o]["confirmed"] for o in ok if {"paid", "confirmed"} <= set(seen.get(o, {}))]
        self.out(f"           accepted -> confirmed: {spread([max(0.0, v) for v in to_confirm])}")
        self.out(f"           confirmed -> paid: {spread(to_paid)}")
        self.payments(ok, rows, seen)
        self.summary.update(
            orders_offered=len(sent),
            orders_accepted=len(ok),
            orders_paid=len(paid),
            orders_parked=len(parked),
            orders_stuck=len(stuck),
            confirm_p50_s=percentile(to_confirm, 0.5),
            confirm_p95_s=percentile(to_confirm, 0.95),
            paid_p50_s=percentile(to_paid, 0.5),
            paid_p95_s=percentile(to_paid, 0.95),
        )
        return len(stuck)

    def payments(self, ok, rows, seen):
        sent = collections.Counter(e["way"] for e in self.by_kind["payment"] if e["ok"])
        for way in ("prepay", "register", "transfer"):
            orders = [oid for oid, e in ok.items() if e.get("way") == way]
            paid = [oid for oid in orders if rows.get(oid) and rows[oid][4]]
            lat = [
                seen[o]["paid"] - seen[o]["confirmed"] for o in paid if {"paid", "confirmed"} <= set(seen.get(o, {}))
            ]
            self.out(
                f"           paid by {way:8s}: {len(orders)} orders, {sent[way]} payments sent, {len(paid)} paid; "
                f"confirmed -> paid {spread(lat)}"
            )
        self.print_errors(self.client_errors("payment"))
        left = self.by_kind["payments_left"]
        if left and (left[0]["awaiting"] or left[0]["queued"]):
            self.out(f"           payments never sent: {left[0]['awaiting']} orders never waited for their payment")

    def jobs(self):
        forced = self.by_kind["job_forced"]
        names = self.spec["crons"]
        daily = {names.get(str(cron_id)): name for name, cron_id in self.spec["daily_jobs"].items()}
        if forced:
            at = datetime.fromtimestamp(forced[0]["t"]).strftime("%H:%M:%S")
            self.out(
                f"crons      daily jobs forced at {at} ({forced[0]['how']}): "
                + ", ".join(
                    daily.get(names.get(str(e["cron"])), str(e["cron"])) + ("" if e["ok"] else " REFUSED")
                    for e in forced
                )
            )
        else:
            self.out("crons      the daily jobs were not forced (the load ended first)")
        forced_at = forced[0]["t"] if forced else None
        unfinished_total = 0
        for name, job in sorted(self.log.jobs.items()):
            ends = job["ends"]
            durations = [d for _s, _done, d in ends]
            outcome = collections.Counter(s for s, _d, _du in ends)
            unfinished = max(0, job["started"] - len(ends))
            # the run under way when the harness stopped the server is not one that died
            at_stop = bool(unfinished and self.log.stopped_at and max(job["starts"]) >= self.log.stopped_at - 60)
            at_stop = at_stop and job["ends_at"][-1:] <= job["starts"][-1:]
            unfinished -= at_stop
            unfinished_total += unfinished
            line = f"           {name[:72]}: {job['started']} runs, " + ", ".join(
                [f"{k} {v}" for k, v in outcome.items()] or ["none finished"]
            )
            if unfinished:
                line += f", {unfinished} never finished"
            if at_stop:
                line += ", 1 under way when the server was stopped"
            if job["timed_out"]:
                line += f", {job['timed_out']} failed by Odoo after {CONSECUTIVE_TIMEOUTS} timeouts in a row"
            if durations:
                p50, worst = percentile(durations, 0.5), max(durations)
                line += f"; p50 {p50:.2f} s, max {worst:.2f} s, total {sum(durations):.0f} s"
            if name in daily and forced_at:
                after = [t - forced_at for t in job["starts"] if t >= forced_at - 1]
                line += f" [daily job: started {after[0]:.0f} s after being forced]" if after else " [daily job]"
            self.out(line)
        runs = sum(job["started"] for job in self.log.jobs.values())
        failed = sum(1 for job in self.log.jobs.values() for s, _d, _du in job["ends"] if s == "failed")
        failed += sum(job["timed_out"] for job in self.log.jobs.values())
        self.summary.update(cron_runs=runs, cron_runs_failed=failed, cron_runs_unfinished=unfinished_total)

    def memory(self):
        groups = collections.defaultdict(list)
        for pid, (name, peak) in self.watcher.rss.items():
            role = self.log.roles.get(pid) or ("master" if pid == self.extra["server_pid"] else name)
            if role == "python3":
                role = "short-lived fork"
            groups[role].append(peak)
        mb = 1024 * 1024
        self.out(
            "memory     peak RSS: "
            + "; ".join(
                f"{role} {max(p) / mb:.0f} MB ({len(p)} process{'es' if len(p) > 1 else ''})"
                for role, p in sorted(groups.items())
            )
            + f"; all together {self.watcher.rss_total / mb:.0f} MB"
        )
        workers = groups.get("WorkerHTTP", []) + groups.get("WorkerCron", [])
        before, after = self.extra["db_before"], self.extra["db_after"]
        growth = {t: after["tables"].get(t, 0) - s for t, s in before["tables"].items()}
        top = sorted(growth.items(), key=lambda item: -item[1])[:6]
        self.out(
            f"database   {before['size'] / mb:.0f} MB -> {after['size'] / mb:.0f} MB "
            f"(+{(after['size'] - before['size']) / mb:.1f} MB); grew most: "
            + ", ".join(f"{t} +{g / mb:.1f} MB" for t, g in top if g > 0)
        )
        self.summary.update(
            worker_peak_rss_mb=round(max(workers, default=0) / mb),
            server_peak_rss_mb=round(self.watcher.rss_total / mb),
            db_growth_mb=round((after["size"] - before["size"]) / mb, 1),
        )

    def server_log(self):
        log = self.log
        before, after = self.extra["db_before"], self.extra["db_after"]
        errors = len(log.errors)
        self.out(
            f"log        {sum(log.levels.values())} lines; errors {errors} (ERROR and CRITICAL records, not "
            f"counting the {len(log.conflicts)} serialization failures Odoo logs as 'bad query'); tracebacks "
            f"{len(log.tracebacks)}; warnings {log.levels['WARNING']}"
        )
        for (clock, logger, text), count in collections.Counter(log.errors).most_common(8):
            self.out(f"    {clock} {logger}: {text}" + (f" (x{count})" if count > 1 else ""))
        for text, count in collections.Counter(log.tracebacks).most_common(8):
            self.out(f"    traceback: {text} (x{count})")
        where = collections.Counter(log.roles.get(pid, "other process") for _c, pid, _w in log.conflicts)
        retried = sum(n for k, n in log.retries.items() if "given up" not in k)
        self.out(
            f"conflicts  serialization failures {len(log.conflicts)}"
            + (f" ({', '.join(f'{k} {v}' for k, v in where.most_common())})" if log.conflicts else "")
            + f"; requests re-run by Odoo's retry {retried}"
            + (f" ({', '.join(f'{k} {v}' for k, v in log.retries.items())})" if log.retries else "")
            + "; the others were caught where they happened (a savepoint, the quote-to-cash batch retry) or made"
            " a job fail (an error above)" + f"; deadlocks (PostgreSQL) {after['deadlocks'] - before['deadlocks']}"
        )
        if log.limits:
            self.out(f"limits     {len(log.limits)} worker limits reached:")
            for text in log.limits[:6]:
                self.out(f"    {text}")
        self.summary.update(
            log_errors=errors,
            log_tracebacks=len(log.tracebacks),
            log_warnings=log.levels["WARNING"],
            serialization_failures=len(log.conflicts),
            serialization_retries=retried,
            worker_limits=len(log.limits),
        )
        return errors + len(log.tracebacks)

    def http(self):
        log = self.log
        total = sum(len(v) for v in log.requests.values())
        self.out(
            f"http       {total} requests ({', '.join(f'{k} {v}' for k, v in sorted(log.statuses.items()))}); "
            "server time by route (the busiest):"
        )
        busiest = sorted(log.requests.items(), key=lambda item: -sum(item[1]))[:10]
        for route, times in busiest:
            self.out(
                f"    {route[:60]:60s} {len(times):6d}  p50 {percentile(times, 0.5):6.3f} s  "
                f"p95 {percentile(times, 0.95):6.3f} s  max {max(times):6.2f} s"
            )
        errors = collections.Counter(e["error"] for e in self.by_kind["client_error"])
        self.out(
            f"client     emails sent by the server (SMTP sink) {self.extra['smtp'][0]} to {self.extra['smtp'][1]} "
            f"recipients; client errors {sum(errors.values())}; poll failures {sum(self.watcher.errors.values())}"
        )
        self.print_errors(errors)
        self.summary.update(http_requests=total, client_errors=sum(errors.values()))

    def print(self):
        stuck = self.leads() + self.tickets() + self.sla() + self.orders()
        self.jobs()
        self.memory()
        failures = self.server_log()
        self.http()
        self.summary.update(stuck=stuck, minutes=self.opts.minutes)
        self.out(
            "SOAK: "
            + " ".join(
                f"{k}={v:.2f}" if isinstance(v, float) and not math.isnan(v) else f"{k}={v}"
                for k, v in self.summary.items()
            )
        )
        return stuck, failures


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def load_spec(opts, spec, paths):
    start = time.time() + 3
    load_end = start + opts.minutes * 60
    spec.update(
        url=opts.url,
        db=DB,
        seed=opts.seed,
        start=start,
        load_end=load_end,
        hard_end=load_end + (opts.drain_minutes + 15) * 60,
        events=str(paths["events"]),
        stop_file=str(paths["stop"]),
    )
    spec["accept"]["burst_at"] = start + opts.burst_at_minute * 60
    spec["jobs"] = {
        "at": start + opts.jobs_at_minute * 60,
        "cron_ids": list(spec["daily_jobs"].values()),
        "how": opts.force_jobs,
    }
    paths["spec"].write_text(json.dumps(spec))
    return spec


def progress_line(watcher, log, events, started):
    kinds = collections.Counter(e["kind"] for e in events)
    with watcher.lock:
        leads = watcher.leads.values()
        orders = watcher.orders.values()
        due = watcher.due.values()
        line = (
            f"[soak] {time.time() - started:6.0f} s  leads {len(leads)} made/{sum(1 for _c, s in leads if s)} scored"
            f"  orders {kinds['accept']} accepted/{sum(1 for o in orders if 'confirmed' in o)} confirmed/"
            f"{sum(1 for o in orders if 'paid' in o)} paid  tickets {len(watcher.tickets)}"
            f"  SLA due {len(due)}/{sum(1 for _d, h, _s in due if h)} handled"
            f"  RSS {watcher.rss_total / 1048576:.0f} MB  log errors {len(log.errors)}"
            f" tracebacks {len(log.tracebacks)}"
        )
    print(line, flush=True)


def settled(watcher, events, load_end):
    """Nothing left to wait for: leads scored, accepted orders paid or parked, due SLA lines handled."""
    accepted = {e["order"] for e in events if e["kind"] == "accept" and e["ok"]}
    with watcher.lock:
        if any(s is None for _c, s in watcher.leads.values()):
            return False
        for oid in accepted:
            entry = watcher.orders.get(oid, {})
            state = entry.get("state", (None, None, None))
            if "paid" not in entry and not (state[1] in SETTLED_STATES and state[2]):
                return False
        return not any(h is None and d < load_end for d, h, _s in watcher.due.values())


def drive(opts, spec, paths, server):
    """Start the load, follow it, drain, stop it; returns the watcher, the log scan and the events."""
    watcher = Watcher(spec, server.pid, opts.poll)
    log = LogScan(paths["log"])
    watcher.start()
    load_out = paths["load_out"].open("w")
    load = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "soak_load.py"), str(paths["spec"])],
        cwd=ROOT,
        stdout=load_out,
        stderr=subprocess.STDOUT,
    )
    started, last_progress, drain_from = time.time(), time.time(), None
    try:
        while True:
            time.sleep(1)
            events = read_events(paths["events"])
            log.read()
            if time.time() - last_progress >= opts.progress:
                progress_line(watcher, log, events, started)
                last_progress = time.time()
            if load.poll() is not None:
                print(f"[soak] the load process ended early (rc {load.returncode}): see {paths['load_out']}")
                break
            if server.poll() is not None:
                print(f"[soak] the server stopped (rc {server.returncode}): see {paths['log']}")
                break
            if drain_from is None and any(e["kind"] == "offered_done" for e in events):
                drain_from = max(time.time(), spec["load_end"])
                print(f"[soak] load offered; draining (at most {opts.drain_minutes:g} min)", flush=True)
            if drain_from and time.time() >= spec["load_end"]:
                if settled(watcher, events, spec["load_end"]) or time.time() > drain_from + opts.drain_minutes * 60:
                    break
            if time.time() > spec["hard_end"]:
                print("[soak] the hard time limit passed: stopping", flush=True)
                break
    finally:
        paths["stop"].touch()
        try:
            load.wait(120)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait(30)
        load_out.close()
        time.sleep(opts.poll * 2)  # a last poll after the last payment
        watcher.stop.set()
        watcher.join(60)
    drained = time.time() - (drain_from or time.time())
    return watcher, log, read_events(paths["events"]), drained


def run(opts):
    suite.RUN_CONF = Path(opts.config)
    paths = {
        "log": LOCAL / "soak-server.log",
        "events": LOCAL / "soak-events.jsonl",
        "spec": LOCAL / "soak-spec.json",
        "stop": LOCAL / "soak-stop",
        "load_out": LOCAL / "soak-load.out",
    }
    for path in paths.values():
        path.unlink(missing_ok=True)
    started = time.perf_counter()
    base = ensure_base(opts.config, opts.reuse)
    base_s = time.perf_counter() - started
    copy_database(opts.config, BASE_DB, DB)
    copy_s = time.perf_counter() - started - base_s
    prep = subprocess.run(
        [sys.executable, __file__, *sys.argv[1:], "--prepare", str(paths["spec"])],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if prep.returncode:
        sys.stderr.write(prep.stdout[-3000:] + prep.stderr[-5000:])
        raise RuntimeError("preparing the soak data failed")
    spec = json.loads(paths["spec"].read_text())
    prep_s = time.perf_counter() - started - base_s - copy_s
    counts = {k: len(spec["accept"][k]) for k in order_counts(opts)}
    print(
        "preparation: "
        + (
            f"{BASE_DB} installed in {base[0]:.0f} s and seeded (datagen small) in {base[1]:.0f} s; "
            if base
            else f"{BASE_DB} reused; "
        )
        + f"copied in {copy_s:.0f} s; soak data in {prep_s:.0f} s ({sum(counts.values())} quotations: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; {spec['portal_users']} portal customers; parked customer {spec['parked_customer']!r})",
        flush=True,
    )
    if not opts.has_wkhtmltopdf:
        print(
            "note: wkhtmltopdf is missing: sale's portal accept route cannot render the signed PDF, so the "
            "portal signatures are left out (apt-get install wkhtmltopdf to drive them)",
            flush=True,
        )
    with contextlib.closing(read_only_connection()) as conn:
        db_before = db_figures(conn)
    smtp = SmtpSink()
    server, cmd = start_server(opts, paths["log"], smtp.server_address[1])
    print("server: " + " ".join(cmd[2:]), flush=True)
    try:
        wait_ready(opts, server)
        warm_up(opts, spec)
        spec = load_spec(opts, spec, paths)
        print(
            f"load: {opts.minutes:g} min; leads {opts.lead_rate:g}/min ({opts.lead_email_share:.0%} by email), "
            f"tickets {opts.ticket_rate:g}/min, acceptances {opts.accept_rate:g}/min ({opts.portal_share:.0%} portal), "
            f"burst {opts.burst} at minute {opts.burst_at_minute:g} ({opts.burst_portal_share:.0%} portal), daily jobs "
            f"forced at minute {opts.jobs_at_minute:g}; payments "
            + ", ".join(f"{k} {v:.0%}" for k, v in opts.mix.items()),
            flush=True,
        )
        watcher, log, events, drained = drive(opts, spec, paths, server)
        print(f"[soak] drained for {drained:.0f} s; reading the final state", flush=True)
        accepted = {e["order"] for e in events if e["kind"] == "accept" and e["ok"]}
        final = final_state(spec, accepted, spec["load_end"])
        with contextlib.closing(read_only_connection()) as conn:
            db_after = db_figures(conn)
    finally:
        stop_server(server)
        smtp.shutdown()
    log.read()
    extra = {
        "server_pid": server.pid,
        "db_before": db_before,
        "db_after": db_after,
        "smtp": (smtp.messages, smtp.recipients),
    }
    return Report(opts, spec, watcher, log, events, final, extra).print()


def main(argv):
    opts = parse_args(argv)
    if opts.prepare:
        prepare(opts)
        return 0
    os.chdir(ROOT)
    try:
        stuck, failures = run(opts)
    except Exception as error:  # noqa: BLE001 - whatever kept it from running, said in one line
        print(f"soak: could not run: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        if not opts.keep:
            for dbname in (DB, BASE_DB):
                with contextlib.suppress(Exception):
                    drop_database(opts.config, dbname)
    return 1 if stuck or failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
