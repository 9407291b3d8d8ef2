#!/usr/bin/env python3
"""Demo and benchmark data: a believable small company, deterministic from a seed.

Usage::

    python3 tools/datagen.py -c CONF -d DB [--size small|medium|large|N] [--seed 42] [--no-score]

``small`` is about 300 leads (``make demo``), ``medium`` 5,000, ``large``
100,000 (``make bench-seed``); a number is that many leads. It makes, through
the ORM: customers (companies and their people, in several countries, with
company and free-mail addresses), products (storable with stock, consumable,
service), salespeople and teams, two years of leads and opportunities with
won and lost outcomes that depend on their facts (source, country, email,
amount, engagement: learnable, with noise), lost reasons, emails and
activities, then quotations, orders, deliveries, invoices and payments for
part of the won opportunities, dated when each was won (some invoices left
unpaid and overdue). What the ERP knows changes the odds of later deals: a
company that has bought wins more often, unless it is one of the slow payers.
Support tickets follow (those about a parcel quote the customer's latest
order), then every customer's health is measured and the leads are scored.

The work is a list of steps (:data:`STEPS`); each takes the shared
:class:`Context` and skips itself when the models it needs are not installed.
Add a step with :func:`step` (later addons: tickets, scores...).
Same seed and size, same records (dates are relative to the day it runs).
"""

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

BATCH = 1000
SIZES = {"small": 300, "medium": 5000, "large": 100000}
FIRST_NAMES = (
    "Anna Louis Camille Jules Emma Hugo Léa Paul Sofia Lucas Mia Noah Clara Tom Eva Leo Nina Max Iris Adam "
    "Julia Felix Laura Marco Elena Pieter Sanne Oliver Grace Diego Lucia"
).split()
LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Müller Schmidt Schneider Fischer "
    "Weber Janssens Peeters Smith Jones Taylor Brown García López Rossi Russo Bianchi de Jong Jansen Visser"
).split()
COMPANY_WORDS = (
    "Alpine Atlas Beacon Cedar Cobalt Delta Ember Falcon Granite Harbor Horizon Iris Juniper Keystone Lumen "
    "Maple Nimbus Orbit Pioneer Quartz Summit Tandem Vertex Willow Zenith"
).split()
COMPANY_KINDS = "Logistics Foods Labs Studio Systems Retail Engineering Clinic Hotels Motors Print Energy".split()
COUNTRIES = ("fr", "be", "de", "us", "gb", "es", "it", "nl")
CITIES = {
    "fr": ("Paris", "Lyon", "Lille"),
    "be": ("Brussels", "Liège", "Ghent"),
    "de": ("Berlin", "Munich", "Hamburg"),
    "us": ("Chicago", "Austin", "Boston"),
    "gb": ("London", "Leeds", "Bristol"),
    "es": ("Madrid", "Valencia"),
    "it": ("Milan", "Turin"),
    "nl": ("Amsterdam", "Utrecht"),
}
COUNTRY_EFFECT = {"fr": 0.3, "be": 0.2, "de": 0.1, "us": -0.2, "gb": 0.0, "es": -0.3, "it": -0.1, "nl": 0.2}
FREE_MAIL = ("gmail.com", "hotmail.com", "yahoo.com", "outlook.com")
# The change of the odds (logit) of a deal with a company that has already bought: more likely
# won, unless the company pays late. Only the ERP's facts (orders, late invoices) show them.
REPEAT_CUSTOMER_EFFECT = 1.2
SLOW_PAYER_EFFECT = -1.2
SOURCES = (("Website", 0.6), ("Referral", 1.0), ("Trade fair", -0.4), ("Cold call", -0.8), ("Newsletter", 0.1))
MEDIUMS = ("Website", "Email", "Phone", "Direct")
CAMPAIGNS = ("Spring launch", "Autumn promo", "Partner program")
LOST_REASONS = ("Too expensive", "Chose a competitor", "No budget", "No answer", "Not the right timing")
TAGS = ("Product", "Services", "Upgrade", "Training", "Consulting")
PRODUCTS = (
    # name, kind, list price, cost
    ("Standing desk", "storable", 640.0, 390.0),
    ("Ergonomic chair", "storable", 320.0, 180.0),
    ('Monitor 27"', "storable", 280.0, 190.0),
    ("Docking station", "storable", 180.0, 110.0),
    ("Conference camera", "storable", 850.0, 560.0),
    ("Acoustic panel", "storable", 95.0, 40.0),
    ("Cable kit", "consumable", 25.0, 8.0),
    ("Desk lamp", "consumable", 45.0, 18.0),
    ("Whiteboard markers", "consumable", 12.0, 4.0),
    ("Cleaning kit", "consumable", 19.0, 6.0),
    ("Installation", "service", 90.0, 45.0),
    ("Workspace audit", "service", 600.0, 250.0),
    ("Training day", "service", 950.0, 400.0),
    ("Support plan (year)", "service", 1200.0, 300.0),
)
MAIL_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
    "crm_lead_scoring_skip": True,
}


@dataclass
class Context:
    """What the steps share: the environment, the random source, the size and what was made."""

    env: object
    rng: random.Random
    leads: int
    seed: int
    commit: bool = False
    score: bool = True
    open_share: float = None
    tickets: int = None
    now: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    made: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    progress: object = None

    def count(self, name, number):
        self.counts[name] = self.counts.get(name, 0) + number

    def checkpoint(self, label):
        """Commit between batches from the command line; inside a test, keep one transaction."""
        if self.commit:
            self.env.cr.commit()
            self.env.invalidate_all()
        if self.progress:
            self.progress(label, self.counts)


STEPS = []


def step(function):
    """Register a generation step; steps run in the order they are registered."""
    STEPS.append(function)
    return function


def _xmlid(env, xmlid):
    return env.ref(xmlid, raise_if_not_found=False)


def _countries(env):
    """Country ids by lower-case ISO code (the United Kingdom's xmlid is base.uk)."""
    records = env["res.country"].search([("code", "in", [c.upper() for c in COUNTRIES])])
    return {record.code.lower(): record.id for record in records}


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


@step
def company_setup(ctx):
    """Chart of accounts when the company has none, so that invoices can be made."""
    env = ctx.env
    if "account.chart.template" in env and not env.company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company=env.company, install_demo=False)
        ctx.checkpoint("chart of accounts")


@step
def sales_people(ctx):
    env = ctx.env
    group = _xmlid(env, "sales_team.group_sale_salesman_all_leads") or _xmlid(env, "base.group_user")
    users = env["res.users"].search([("login", "like", "datagen.sales.%")], order="id")
    if not users:
        names = ctx.rng.sample([f"{first} {last}" for first in FIRST_NAMES[:10] for last in LAST_NAMES[:10]], 5)
        users = (
            env["res.users"]
            .with_context(no_reset_password=True, **MAIL_CONTEXT)
            .create(
                [
                    {
                        "name": name,
                        "login": f"datagen.sales.{i}",
                        "email": f"sales{i}@crm-suite-demo.example",
                        "group_ids": [(4, group.id)],
                    }
                    for i, name in enumerate(names)
                ]
            )
        )
    ctx.made["users"] = users.ids
    ctx.made["teams"] = []
    if "crm.team" in env:
        teams = env["crm.team"].search([("name", "in", ("Direct Sales", "Partners"))], order="id")
        if not teams:
            teams = env["crm.team"].create(
                [
                    {"name": "Direct Sales", "member_ids": [(6, 0, users.ids[:3])]},
                    {"name": "Partners", "member_ids": [(6, 0, users.ids[3:])]},
                ]
            )
        ctx.made["teams"] = teams.ids
    ctx.count("res.users", len(users))


@step
def customers(ctx):
    env, rng = ctx.env, ctx.rng
    countries = _countries(env)
    n_companies = max(20, min(3000, ctx.leads // 25))
    vals = []
    for i in range(n_companies):
        code = rng.choice(COUNTRIES)
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {i + 1}"
        domain = name.lower().replace(" ", "-") + ".example"
        vals.append(
            {
                "name": name,
                "is_company": True,
                "country_id": countries[code],
                "city": rng.choice(CITIES[code]),
                "email": f"contact@{domain}",
                "phone": f"+{rng.randint(30, 49)} {rng.randint(100000000, 999999999)}",
                "customer_rank": 1,
                "website": f"https://{domain}",
            }
        )
    Partner = env["res.partner"].with_context(**MAIL_CONTEXT)
    if "customer_rank" not in Partner._fields:  # without account (a support-only database)
        for values in vals:
            values.pop("customer_rank")
    companies = env["res.partner"]
    for start in range(0, len(vals), BATCH):
        companies |= Partner.create(vals[start : start + BATCH])
    people = []
    for company in companies:
        domain = company.email.split("@")[1]
        for _j in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            people.append(
                {
                    "name": f"{first} {last}",
                    "parent_id": company.id,
                    "type": "contact",
                    "email": f"{first.lower()}.{last.lower().replace(' ', '')}@{domain}".replace("é", "e").replace(
                        "ü", "u"
                    ),
                    "customer_rank": 1,
                }
            )
    if "customer_rank" not in Partner._fields:
        for values in people:
            values.pop("customer_rank")
    contacts = env["res.partner"]
    for start in range(0, len(people), BATCH):
        contacts |= Partner.create(people[start : start + BATCH])
    ctx.made["companies"] = companies.ids
    ctx.made["company_country"] = {c.id: c.country_id.code.lower() for c in companies}
    ctx.made["contacts_by_company"] = {}
    for contact in contacts:
        ctx.made["contacts_by_company"].setdefault(contact.parent_id.id, []).append(contact.id)
    ctx.count("res.partner", len(companies) + len(contacts))
    ctx.checkpoint("customers")


@step
def products(ctx):
    env = ctx.env
    if "product.product" not in env:
        return
    categories = {
        name: env["product.category"].create({"name": f"Demo {name}"}) for name in ("Furniture", "Supplies", "Services")
    }
    kinds = {"storable": "Furniture", "consumable": "Supplies", "service": "Services"}
    vals = []
    for name, kind, price, cost in PRODUCTS:
        values = {
            "name": name,
            "list_price": price,
            "standard_price": cost,
            "categ_id": categories[kinds[kind]].id,
            "type": "service" if kind == "service" else "consu",
            "sale_ok": True,
        }
        if kind == "storable" and "is_storable" in env["product.template"]._fields:
            values["is_storable"] = True
        if kind == "service" and "invoice_policy" in env["product.template"]._fields:
            values["invoice_policy"] = "order"
        elif "invoice_policy" in env["product.template"]._fields:
            values["invoice_policy"] = "delivery"
        vals.append(values)
    templates = env["product.template"].with_context(**MAIL_CONTEXT).create(vals)
    variants = templates.product_variant_id
    ctx.made["products"] = variants.ids
    ctx.count("product.product", len(variants))
    if "stock.quant" in env:
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        storable = variants.filtered(lambda p: p.is_storable)
        scale = max(1, ctx.leads // 300)
        quants = (
            env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                [
                    {
                        "product_id": product.id,
                        "location_id": warehouse.lot_stock_id.id,
                        "inventory_quantity": ctx.rng.randint(20, 80) * scale,
                    }
                    for product in storable
                ]
            )
        )
        quants.action_apply_inventory()
        ctx.count("stock.quant", len(quants))
    ctx.checkpoint("products")


def _utm(env, model, names):
    records = env[model].search([("name", "in", list(names))])
    missing = [n for n in names if n not in records.mapped("name")]
    if missing:
        records |= env[model].create([{"name": n} for n in missing])
    by_name = {r.name: r.id for r in records}
    return [by_name[n] for n in names]


def lead_plan(seed, leads, companies, company_country, contacts_by_company, now, open_share=None):
    """The leads to make, as plain values: a pure function of its arguments (same seed, same plan).

    By default recent leads are mostly open and old ones closed; ``open_share`` instead leaves that
    share of the leads open whatever their age (benchmarks ask for half open, half closed).
    """
    rng = random.Random(seed * 7919 + leads)
    plan = []
    horizon = 730 * 86400
    for i in range(leads):
        created = now - timedelta(seconds=int(horizon * rng.random() ** 0.8))
        age_days = (now - created).days
        source = rng.randrange(len(SOURCES))
        company_id = rng.choice(companies) if rng.random() < 0.7 else None
        country = company_country.get(company_id) if company_id else rng.choice(COUNTRIES)
        free_mail = rng.random() < (0.15 if company_id else 0.6)
        revenue = round(math.exp(rng.gauss(8.5, 1.0)), -1)
        emails_in = min(8, int(rng.expovariate(1.0)))
        emails_out = min(8, int(rng.expovariate(1.1)))
        calls = min(5, int(rng.expovariate(1.4)))
        logit = (
            -0.9
            + SOURCES[source][1]
            + COUNTRY_EFFECT[country]
            + (-0.7 if free_mail else 0.3)
            + 0.5 * emails_in
            + 0.35 * calls
            - 0.25 * (math.log(revenue) - 8.5)
            + (0.4 if company_id else 0.0)
        )
        p_win = 1 / (1 + math.exp(-logit))
        draw = None  # the draw that decided won or lost (kept for the repeat business below)
        if open_share is not None:
            outcome = "open" if rng.random() < open_share else None
        elif age_days < 45 and rng.random() < 0.8:
            outcome = "open"
        elif rng.random() < 0.35 and age_days < 200:
            outcome = "open"
        else:
            outcome = None
        if outcome is None:
            draw = rng.random()
            outcome = "won" if draw < p_win else "lost"
        plan.append(
            {
                "index": i,
                "created": created,
                "source": source,
                "company_id": company_id,
                "country": country,
                "free_mail": free_mail,
                "revenue": revenue,
                "emails_in": emails_in,
                "emails_out": emails_out,
                "calls": calls,
                "outcome": outcome,
                "priority": rng.choice("0001123"),
                "contact_id": rng.choice(contacts_by_company.get(company_id, [None])) if company_id else None,
                "first": rng.choice(FIRST_NAMES),
                "last": rng.choice(LAST_NAMES),
                "tag": rng.randrange(len(TAGS)),
                "medium": rng.randrange(len(MEDIUMS)),
                "campaign": rng.randrange(len(CAMPAIGNS) + 2),
                "lost_reason": rng.randrange(len(LOST_REASONS)),
                "close_after": rng.randint(5, 90),
                "user": rng.randrange(5),
                "team": rng.randrange(2),
                "phone": rng.random() < 0.55,
                "logit": logit,
                "draw": draw,
            }
        )
    _repeat_business(plan, companies, now, ordered_cap(leads))
    return plan


def ordered_cap(leads):
    """How many won opportunities become orders (the ERP history; each order is delivered,
    invoiced and mostly paid through the ORM, so their number is bounded)."""
    return max(20, min(300, int(3 * math.sqrt(leads))))


def slow_payers(companies):
    """One company in four pays its invoices late, or not at all."""
    return set(companies[::4])


def _repeat_business(plan, companies, now, cap):
    """What the ERP knows changes the odds, in time order: once a company has bought (one of
    its won opportunities became an order), its next deals are likelier won, unless it pays
    late, which makes them less likely. The draws of the plan are kept, so the leads of
    companies that never bought keep their outcome.

    Marks the won opportunities that become orders (``ordered``): the first won deal of each
    company while ``cap`` allows, then others spread over the two years up to ``cap``."""
    slow = slow_payers(companies)
    customer_since = {}
    ordered = 0
    for item in sorted(plan, key=lambda item: item["created"]):
        item["closed_at"] = min(item["created"] + timedelta(days=item["close_after"]), now - timedelta(hours=1))
        item["ordered"] = False
        known = item["company_id"] and not item["free_mail"]  # the ERP recognises the company
        since = customer_since.get(item["company_id"]) if known else None
        if item["draw"] is not None and since and since < item["created"]:
            effect = SLOW_PAYER_EFFECT if item["company_id"] in slow else REPEAT_CUSTOMER_EFFECT
            item["outcome"] = "won" if item["draw"] < 1 / (1 + math.exp(-(item["logit"] + effect))) else "lost"
        if item["outcome"] == "won" and known and item["company_id"] not in customer_since and ordered < cap:
            item["ordered"] = True
            ordered += 1
            customer_since[item["company_id"]] = item["closed_at"]
    spare = [
        item
        for item in plan
        if item["outcome"] == "won" and not item["ordered"] and item["company_id"] and not item["free_mail"]
    ]
    if spare and ordered < cap:
        stride = max(1, len(spare) // (cap - ordered))
        for item in sorted(spare, key=lambda item: item["created"])[::stride][: cap - ordered]:
            item["ordered"] = True


@step
def leads(ctx):
    env = ctx.env
    if "crm.lead" not in env:
        return
    source_ids = _utm(env, "utm.source", [name for name, _effect in SOURCES])
    medium_ids = _utm(env, "utm.medium", list(MEDIUMS))
    campaign_ids = _utm(env, "utm.campaign", list(CAMPAIGNS))
    tags = env["crm.tag"].search([("name", "in", TAGS)])
    tags |= env["crm.tag"].create([{"name": t} for t in TAGS if t not in tags.mapped("name")])
    tag_ids = [tags.filtered(lambda t, name=name: t.name == name).id for name in TAGS]
    reasons = env["crm.lost.reason"].search([("name", "in", LOST_REASONS)])
    reasons |= env["crm.lost.reason"].create([{"name": r} for r in LOST_REASONS if r not in reasons.mapped("name")])
    reason_ids = [reasons.filtered(lambda r, name=name: r.name == name).id for name in LOST_REASONS]
    stages = env["crm.stage"].search([], order="sequence, id")
    won_stage = stages.filtered("is_won")[:1]
    open_stages = (stages - won_stage).ids
    countries = _countries(env)
    users, teams = ctx.made["users"], ctx.made["teams"]
    partners = env["res.partner"].browse(
        ctx.made["companies"] + [c for contacts in ctx.made["contacts_by_company"].values() for c in contacts]
    )
    company_names = {c.id: c.name for c in partners if c.is_company}
    partner_email = {c.id: c.email for c in partners}
    partner_phone = {c.id: c.phone for c in partners}

    # Odoo's predictive scoring counts only leads created after crm.pls_start_date; the history is
    # backdated after creation, so Odoo's frequency table is rebuilt once at the end instead of per batch
    params = env["ir.config_parameter"].sudo()
    params.set_param("crm.pls_start_date", str((ctx.now + timedelta(days=3650)).date()))
    plan = lead_plan(
        ctx.seed,
        ctx.leads,
        ctx.made["companies"],
        ctx.made["company_country"],
        ctx.made["contacts_by_company"],
        ctx.now,
        open_share=ctx.open_share,
    )
    Lead = env["crm.lead"].with_context(**MAIL_CONTEXT)
    made = []
    rng = ctx.rng
    for start in range(0, len(plan), BATCH):
        chunk = plan[start : start + BATCH]
        vals = []
        for item in chunk:
            first, last = item["first"], item["last"]
            company_id = item["company_id"]
            domain = (
                rng.choice(FREE_MAIL)
                if item["free_mail"]
                else (
                    company_names[company_id].lower().replace(" ", "-") + ".example"
                    if company_id
                    else f"{last.lower().replace(' ', '')}-{item['index']}.example"
                )
            )
            closed_at = item["closed_at"]
            partner_id = item["contact_id"] or company_id or False
            email = f"{first.lower()}.{item['index']}@{domain}".replace("é", "e").replace("ü", "u")
            phone = f"+33 6{item['index']:08d}" if item["phone"] else False
            if partner_id and not item["free_mail"]:
                # the lead carries its contact's address and phone (else crm would rewrite the contact's)
                email, phone = partner_email[partner_id], partner_phone[partner_id]
            elif partner_id:
                partner_id = False  # a free-mail lead is not matched to the company's contact
            values = {
                "name": f"{TAGS[item['tag']]} for {company_names.get(company_id) or f'{first} {last}'}",
                "type": "opportunity"
                if company_id or item["outcome"] != "open"
                else rng.choice(("lead", "opportunity")),
                "contact_name": f"{first} {last}",
                "partner_name": company_names.get(company_id, False),
                "partner_id": partner_id,
                "email_from": email,
                "phone": phone,
                "country_id": countries[item["country"]],
                "source_id": source_ids[item["source"]],
                "medium_id": medium_ids[item["medium"]],
                "campaign_id": campaign_ids[item["campaign"]] if item["campaign"] < len(campaign_ids) else False,
                "tag_ids": [(6, 0, [tag_ids[item["tag"]]])],
                "expected_revenue": item["revenue"],
                "priority": item["priority"],
                "user_id": users[item["user"]],
                "team_id": teams[item["team"]] if teams else False,
                "stage_id": open_stages[min(len(open_stages) - 1, int(rng.random() * len(open_stages)))],
            }
            if item["outcome"] == "won":
                values.update(stage_id=won_stage.id, probability=100, date_closed=closed_at)
            elif item["outcome"] == "lost":
                values.update(
                    active=False, probability=0, lost_reason_id=reason_ids[item["lost_reason"]], date_closed=closed_at
                )
            vals.append(values)
        records = Lead.create(vals)
        env.flush_all()
        from odoo.tools import SQL  # noqa: PLC0415 - Odoo is imported once the configuration is parsed

        backdated = SQL(", ").join(
            SQL("(%s, %s::timestamp)", record.id, item["created"]) for record, item in zip(records, chunk, strict=True)
        )
        env.cr.execute(
            SQL(
                """UPDATE crm_lead SET create_date = v.created, date_open = v.created,
                          date_last_stage_update = COALESCE(date_closed, v.created)
                     FROM (VALUES %s) AS v(id, created) WHERE crm_lead.id = v.id""",
                backdated,
            )
        )
        records.invalidate_recordset(["create_date", "date_open", "date_last_stage_update"])
        made.extend((record.id, item) for record, item in zip(records, chunk, strict=True))
        ctx.count("crm.lead", len(records))
        _engagement(ctx, list(zip(records.ids, chunk, strict=True)), won_stage)
        ctx.checkpoint(f"leads {start + len(chunk)}/{len(plan)}")
    params.set_param("crm.pls_start_date", str((ctx.now - timedelta(days=800)).date()))
    env["crm.lead"]._rebuild_pls_frequency_table()
    ctx.checkpoint("Odoo's predictive lead scoring frequencies")
    ctx.made["ordered_leads"] = sorted(
        ((lead_id, item["closed_at"]) for lead_id, item in made if item["ordered"]), key=lambda pair: pair[1]
    )
    ctx.made["lead_partner"] = {lead_id: item["company_id"] for lead_id, item in made}


def _engagement(ctx, pairs, won_stage):
    """Emails in and out and calls done (as messages), open activities on open leads, in batches."""
    env, rng = ctx.env, ctx.rng
    comment = env.ref("mail.mt_comment").id
    note = env.ref("mail.mt_note").id
    call_type = env.ref("mail.mail_activity_data_call")
    users = env["res.users"].browse(ctx.made["users"])
    user_partner = {u.id: u.partner_id.id for u in users}
    messages = []
    activities = []
    lead_model = env["ir.model"]._get_id("crm.lead")
    for lead_id, item in pairs:
        end = ctx.now if item["outcome"] == "open" else item["created"] + timedelta(days=item["close_after"])
        end = min(end, ctx.now)
        span = max((end - item["created"]).total_seconds(), 3600)
        author = item["contact_id"] or item["company_id"]
        salesperson = user_partner[ctx.made["users"][item["user"]]]
        for kind, count in (("in", item["emails_in"]), ("out", item["emails_out"]), ("call", item["calls"])):
            for _k in range(count):
                date = item["created"] + timedelta(seconds=int(span * rng.random()))
                values = {"model": "crm.lead", "res_id": lead_id, "date": date, "reply_to": False}
                if kind == "in":
                    values.update(
                        message_type="email",
                        subtype_id=comment,
                        author_id=author or False,
                        email_from=f"customer{lead_id}@example.com",
                        body="<p>Thanks, can you tell me more?</p>",
                    )
                elif kind == "out":
                    values.update(
                        message_type="comment",
                        subtype_id=comment,
                        author_id=salesperson,
                        body="<p>Here is our proposal, happy to discuss it.</p>",
                    )
                else:
                    values.update(
                        message_type="notification",
                        subtype_id=note,
                        author_id=salesperson,
                        mail_activity_type_id=call_type.id,
                        body="<p>Call done: interested.</p>",
                    )
                messages.append(values)
        if item["outcome"] == "open" and rng.random() < 0.35:
            activities.append(
                {
                    "res_model_id": lead_model,
                    "res_id": lead_id,
                    "activity_type_id": call_type.id,
                    "user_id": ctx.made["users"][item["user"]],
                    "summary": "Follow up",
                    "date_deadline": (ctx.now + timedelta(days=rng.randint(-10, 14))).date(),
                }
            )
    Message = env["mail.message"].with_context(**MAIL_CONTEXT)
    for start in range(0, len(messages), 5000):
        Message.create(messages[start : start + 5000])
    if activities:
        # no "activity assigned to you" email per generated activity
        env["mail.activity"].with_context(mail_activity_quick_update=True, **MAIL_CONTEXT).create(activities)
    ctx.count("mail.message", len(messages))
    ctx.count("mail.activity", len(activities))


@step
def sales(ctx):
    """Orders, deliveries, invoices and payments for part of the won opportunities, dated when
    each was won (so that the ERP history of a company precedes its later deals), and a few
    quotations still open."""
    env, rng = ctx.env, ctx.rng
    if "sale.order" not in env or not ctx.made.get("products"):
        return
    ordered = ctx.made.get("ordered_leads", [])
    leads = env["crm.lead"].browse([lead_id for lead_id, _closed in ordered]).with_context(active_test=False)
    closed_at = dict(ordered)
    products = env["product.product"].browse(ctx.made["products"])
    Order = env["sale.order"].with_context(**MAIL_CONTEXT)
    orders_vals = []
    for lead in leads:
        partner = lead.partner_id.commercial_partner_id or lead.partner_id
        if not partner:
            continue
        lines = [
            (0, 0, {"product_id": product.id, "product_uom_qty": rng.randint(1, 6)})
            for product in rng.sample(list(products), rng.randint(1, 3))
        ]
        orders_vals.append(
            {
                "partner_id": partner.id,
                "opportunity_id": lead.id,
                "order_line": lines,
                "user_id": lead.user_id.id,
                "team_id": lead.team_id.id,
            }
        )
    # the most recent few stay quotations (draft or sent)
    open_quotes = max(3, len(orders_vals) // 10)
    orders = env["sale.order"]
    for start in range(0, len(orders_vals), 200):
        orders |= Order.create(orders_vals[start : start + 200])
    orders, quotes = orders[:-open_quotes], orders[-open_quotes:]
    quotes[: len(quotes) // 2].write({"state": "sent"})
    ctx.count("sale.order", len(quotes) + len(orders))
    slow = slow_payers(ctx.made["companies"])
    for start in range(0, len(orders), 100):
        chunk = orders[start : start + 100]
        chunk.action_confirm()
        _backdate_orders(env, chunk, closed_at)
        _deliver_invoice_pay(ctx, chunk, slow)
        ctx.checkpoint(f"orders {start + len(chunk)}/{len(orders)}")


def _backdate_orders(env, orders, closed_at):
    """Each order dated when its opportunity was won (confirming dates it now)."""
    from odoo.tools import SQL  # noqa: PLC0415 - Odoo is imported once the configuration is parsed

    env.flush_all()
    values = SQL(", ").join(
        SQL("(%s, %s::timestamp)", order.id, closed_at[order.opportunity_id.id]) for order in orders
    )
    env.cr.execute(
        SQL("UPDATE sale_order SET date_order = v.at FROM (VALUES %s) AS v(id, at) WHERE sale_order.id = v.id", values)
    )
    orders.invalidate_recordset(["date_order"])


def _deliver_invoice_pay(ctx, orders, slow):
    """Deliver most orders, invoice them a few days after the order, and have most invoices paid:
    within terms or a little late, except by the slow payers (late, or still due)."""
    env, rng = ctx.env, ctx.rng
    delivered = orders.filtered(lambda o: rng.random() < 0.85)
    pickings = delivered.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
    pickings.move_ids.picked = True
    if pickings:
        pickings.with_context(skip_backorder=True, skip_sms=True, **MAIL_CONTEXT).button_validate()
    ctx.count("stock.picking", len(pickings))
    if "account.move" not in env:
        return
    invoiceable = delivered.filtered(lambda o: o.invoice_status == "to invoice")
    if not invoiceable:
        return
    today = ctx.now.date()
    invoices = invoiceable.with_context(**MAIL_CONTEXT)._create_invoices(grouped=True)
    for invoice in invoices:
        order = invoice.invoice_line_ids.sale_line_ids.order_id[:1]
        invoice_date = min(order.date_order.date() + timedelta(days=rng.randint(1, 15)), today)
        invoice.write({"invoice_date": invoice_date, "invoice_date_due": invoice_date + timedelta(days=30)})
    invoices.action_post()
    ctx.count("account.move", len(invoices))
    payments = 0
    for invoice in invoices:
        if invoice.commercial_partner_id.id in slow:
            paid, delay = rng.random() < 0.4, rng.randint(45, 120)
        else:
            paid, delay = rng.random() < 0.9, rng.randint(10, 40)
        payment_date = invoice.invoice_date + timedelta(days=delay)
        if not paid or payment_date > today:
            continue  # still due
        wizard = (
            env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids, **MAIL_CONTEXT)
            .create({"payment_date": payment_date})
        )
        payments += len(wizard._create_payments())
    ctx.count("account.payment", payments)


SUPPORT_SUBJECTS = (
    "Where is my parcel?",
    "Invoice amount is wrong",
    "Cannot log in to the portal",
    "Damaged goods on delivery",
    "Change of delivery address",
    "Question about the warranty",
    "Missing item in the order",
    "Request a copy of the invoice",
    "Assembly instructions",
    "Refund not received",
)

ORDER_SUBJECTS = ("Where is my parcel?", "Damaged goods on delivery", "Missing item in the order")


def _support_calendar(env, name, tz, day_hours):
    """A working calendar, made once: ``day_hours`` are (from, to) pairs for Monday to Friday."""
    calendar = env["resource.calendar"].search([("name", "=", name)], limit=1)
    if not calendar:
        calendar = env["resource.calendar"].create(
            {
                "name": name,
                "tz": tz,
                "attendance_ids": [
                    (0, 0, {"name": f"{day}-{start}", "dayofweek": str(day), "hour_from": start, "hour_to": end})
                    for day in range(5)
                    for start, end in day_hours
                ],
            }
        )
    return calendar


def _support_setup(ctx):
    """Teams in three time zones and 24/7, with their calendars, holidays and two policies."""
    env = ctx.env
    users = env["res.users"].browse(ctx.made["users"])
    group = _xmlid(env, "support_desk.group_support_user")
    users.write({"group_ids": [(4, group.id)]})
    paris = _support_calendar(env, "Paris support hours", "Europe/Paris", [(9, 12), (13, 17.5)])
    new_york = _support_calendar(env, "New York support hours", "America/New_York", [(8, 18)])
    if not paris.leave_ids:
        day = ctx.now.date() + timedelta(days=9)
        env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": paris.id,
                "date_from": datetime.combine(day, datetime.min.time()) - timedelta(hours=1),
                "date_to": datetime.combine(day, datetime.min.time()) + timedelta(hours=22, minutes=59),
            }
        )
    Team = env["support.team"].with_context(**MAIL_CONTEXT)
    specs = [
        ("Customer Care", {"working_time": "calendar", "resource_calendar_id": env.company.resource_calendar_id.id}),
        ("Technical Support", {"working_time": "calendar", "resource_calendar_id": paris.id}),
        ("US Desk", {"working_time": "calendar", "resource_calendar_id": new_york.id}),
        ("Night Desk", {"working_time": "always"}),
    ]
    teams = env["support.team"]
    for index, (name, values) in enumerate(specs):
        team = env["support.team"].search([("name", "=", name)], limit=1)
        members = users[index % len(users) :] | users[:2]
        values = {
            **values,
            "member_ids": [(6, 0, members.ids)],
            "leader_id": users[0].id,
            "assignment_method": "least_loaded" if index % 2 else "round_robin",
        }
        if team:
            team.write(values)
        else:
            team = Team.create({"name": name, **values})
        teams |= team
    gold = env["res.partner.category"].search([("name", "=", "Gold")], limit=1) or env["res.partner.category"].create(
        {"name": "Gold"}
    )
    companies = env["res.partner"].browse(ctx.made["companies"])
    companies.filtered(lambda partner: partner.id % 7 == 0).write({"category_id": [(4, gold.id)]})
    Sla = env["support.sla"]
    if not Sla.search_count([("name", "in", ("Gold customers (datagen)", "Standard (datagen)"))]):

        def targets(first, resolution):
            return [
                (0, 0, {"metric": metric, "priority": priority, "hours": hours / (1 + int(priority))})
                for priority in "0123"
                for metric, hours in (("first_reply", first), ("next_reply", first * 2), ("resolution", resolution))
            ]

        Sla.create(
            [
                {
                    "name": "Gold customers (datagen)",
                    "sequence": 1,
                    "partner_category_ids": [(6, 0, gold.ids)],
                    "escalate_raise_priority": True,
                    "escalate_to_leader": True,
                    "target_ids": targets(4, 24),
                },
                {
                    "name": "Standard (datagen)",
                    "sequence": 20,
                    "escalate_to_leader": True,
                    "target_ids": targets(16, 80),
                },
            ]
        )
    return teams


@step
def tickets(ctx):
    """Support tickets over the teams, opened in the last days, their SLA clocks running or settled."""
    env, rng = ctx.env, ctx.rng
    if "support.ticket" not in env or not ctx.made.get("companies"):
        return
    teams = _support_setup(ctx)
    count = ctx.tickets if ctx.tickets is not None else max(30, ctx.leads // 10)
    contacts = [contact for ids in ctx.made["contacts_by_company"].values() for contact in ids]
    stages = {xmlid: _xmlid(env, f"support_desk.stage_{xmlid}").id for xmlid in ("new", "in_progress", "waiting")}
    types = env["support.ticket.type"].search([]).ids
    # A customer asking about an order quotes its reference (the latest order of its company).
    last_order = {}
    if "sale.order" in env:
        for order in env["sale.order"].search([("state", "=", "sale")], order="date_order, id"):
            last_order[order.partner_id.commercial_partner_id.id] = order.name
    company_of = {contact: company for company, ids in ctx.made["contacts_by_company"].items() for contact in ids}
    Ticket = env["support.ticket"].with_context(**MAIL_CONTEXT)
    made = env["support.ticket"]
    for start in range(0, count, BATCH):
        vals_list = []
        for index in range(start, min(count, start + BATCH)):
            stage = rng.choices(("new", "in_progress", "waiting"), (0.45, 0.4, 0.15))[0]
            # Half of the tickets answered below were opened in the last half hour: their first
            # reply meets any target (the shortest is an hour), whatever the time of day or week.
            minutes = rng.randint(0, 30) if index < count // 6 else rng.randint(0, 4 * 24 * 60)
            subject, contact = rng.choice(SUPPORT_SUBJECTS), rng.choice(contacts)
            if subject in ORDER_SUBJECTS and company_of[contact] in last_order:
                subject = f"{subject} (order {last_order[company_of[contact]]})"
            vals_list.append(
                {
                    "name": subject,
                    "partner_id": contact,
                    "team_id": rng.choice(teams).id,
                    "stage_id": stages[stage],
                    "priority": rng.choices("0123", (0.6, 0.25, 0.1, 0.05))[0],
                    "ticket_type_id": rng.choice(types) if types else False,
                    "channel": rng.choice(("email", "email", "portal", "phone", "web")),
                    # opened in the last four days; the SLA clocks count from then (as for an import)
                    "date_cycle_start": ctx.now - timedelta(minutes=minutes),
                }
            )
        made |= Ticket.create(vals_list)
        ctx.count("support.ticket", len(vals_list))
        ctx.checkpoint(f"tickets {min(count, start + BATCH)}/{count}")
    # a history for the reports: some answered and solved (only a few thousand: replies go through the chatter)
    agent = env["res.users"].browse(ctx.made["users"][0])
    history = made[: min(len(made) // 3, 3000)]
    for index, ticket in enumerate(history):
        ticket.with_user(agent).with_context(**MAIL_CONTEXT).message_post(
            body="Thank you, we are looking into it.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        if index % 2 == 0:
            ticket.with_context(**MAIL_CONTEXT).action_close()
        if index % 500 == 499:
            ctx.checkpoint(f"ticket replies {index + 1}/{len(history)}")
    ctx.count("mail.message", len(history))
    # the SLA check settles the clocks already past their deadline (and escalates them)
    env["support.ticket.sla"].with_context(**MAIL_CONTEXT)._cron_check(commit=ctx.commit)
    ctx.checkpoint("SLA check")


@step
def health(ctx):
    """Measure every customer's health on the history just made (the nightly cron does it then)."""
    if "c360_health" not in ctx.env["res.partner"]._fields:
        return
    ctx.env["res.partner"]._cron_c360_health(commit=ctx.commit)
    ctx.checkpoint("customer health")


@step
def scores(ctx):
    """Learn the lead scoring models from the history just made and score the open leads."""
    env = ctx.env
    if not ctx.score or "crm.lead.scoring.model" not in env:
        return
    trained = env["crm.lead.scoring.model"]._train_company(env.company)
    env["crm.lead"]._scoring_rescore_all(reason="model", commit=ctx.commit)
    ctx.count("crm.lead.scoring.model", len(trained))
    ctx.checkpoint("scores")


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def generate(env, leads, seed=42, commit=False, score=True, progress=None, open_share=None, tickets=None):
    """Make the data into ``env``'s database; returns the number of records made per model.

    ``commit`` commits after each batch (the command line does; tests do not).
    """
    ctx = Context(
        env=env,
        rng=random.Random(seed),
        leads=leads,
        seed=seed,
        commit=commit,
        score=score,
        progress=progress,
        open_share=open_share,
        tickets=tickets,
    )
    for function in STEPS:
        function(ctx)
    env["ir.config_parameter"].sudo().set_param("crm_suite.demo_seeded", f"seed={seed} leads={leads}")
    if commit:
        env.cr.commit()
    return ctx.counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--size", default="small", help="small, medium, large or a number of leads")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-score", action="store_true", help="do not train and apply lead scoring")
    parser.add_argument("--open-share", type=float, help="share of leads left open whatever their age (0..1)")
    parser.add_argument("--tickets", type=int, help="support tickets to make (default: a tenth of the leads)")
    args = parser.parse_args(argv)
    leads = SIZES.get(args.size) or int(args.size)

    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    started = time.perf_counter()

    def progress(label, counts):
        print(f"[datagen] {time.perf_counter() - started:7.1f} s  {label}", flush=True)

    with Registry(args.database).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        counts = generate(
            env,
            leads,
            seed=args.seed,
            commit=True,
            score=not args.no_score,
            progress=progress,
            open_share=args.open_share,
            tickets=args.tickets,
        )
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    for name, number in sorted(counts.items()):
        print(f"  {name:24} {number:>9}")
    print(
        f"datagen: leads={counts.get('crm.lead', 0)} records={total} seconds={seconds:.1f} "
        f"leads_per_s={counts.get('crm.lead', 0) / seconds:.1f} records_per_s={total / seconds:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
