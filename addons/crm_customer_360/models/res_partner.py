import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_amount, format_date

from odoo.addons.suite_batch_job import batch

from ..engine import health as health_engine

_logger = logging.getLogger(__name__)

ACCOUNTING_GROUPS = "account.group_account_invoice,account.group_account_readonly"
# The health is the company's own assessment of its customer: internal users only, and measured
# per company (a customer shared by two companies has one health in each, from that company's
# documents only).
HEALTH_GROUPS = "base.group_user"
DELIVERIES_SHOWN = 5
OPEN_PICKING_STATES = ("draft", "waiting", "confirmed", "assigned")
HEALTH_PERIOD_DAYS = 90  # recent buying is compared with the same length of time before it
HEALTH_BATCH = 1000  # customers a batch of the nightly job (system parameter crm_customer_360.health_batch_size)
HEALTH_TRENDS = [("up", "Up"), ("steady", "Steady"), ("down", "Down")]


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "customer.360.mixin"]

    c360_health = fields.Integer(
        string="Health",
        readonly=True,
        company_dependent=True,
        groups=HEALTH_GROUPS,
        help="0 to 100: how this customer's buying, payments and support in this company compare with "
        "their usual. Recomputed every night.",
    )
    c360_health_trend = fields.Selection(
        HEALTH_TRENDS, string="Buying Trend", readonly=True, company_dependent=True, groups=HEALTH_GROUPS
    )
    c360_health_reasons = fields.Text(
        string="Health Reasons", readonly=True, company_dependent=True, groups=HEALTH_GROUPS
    )
    c360_health_date = fields.Datetime(
        string="Health Measured On", readonly=True, company_dependent=True, groups=HEALTH_GROUPS
    )
    c360_churn_risk = fields.Boolean(
        string="Churn Risk",
        readonly=True,
        company_dependent=True,
        groups=HEALTH_GROUPS,
        help="Health below the threshold of the settings, or buying trend turned down.",
    )

    def _c360_partner(self):
        return self.commercial_partner_id

    def _c360_partner_fields(self):
        return ["commercial_partner_id"]

    # ------------------------------------------------------------------
    # The summary: one grouped query per kind of document
    # ------------------------------------------------------------------

    def _c360_summaries(self):
        """``{commercial partner id: summary}`` for these commercial partners.

        Amounts are in the current company's currency, converted at today's rate from the
        currency of each group of documents. Accounting figures are only given to the readers
        the accounting groups let see them.
        """
        partners = self.commercial_partner_id
        if not partners:
            return {}
        ids = partners.ids
        company = self.env.company
        currency = company.currency_id
        today = fields.Date.context_today(self)
        figures = defaultdict(lambda: defaultdict(float))

        def convert(amount, from_currency, from_company=None):
            if not amount:
                return 0.0
            if from_currency == currency:
                return amount
            return from_currency._convert(amount, currency, from_company or company, today)

        self._c360_sales(ids, figures, convert)
        self._c360_support(ids, figures)
        accounting = self.env.user.has_groups(ACCOUNTING_GROUPS)
        if accounting:
            self._c360_accounting(ids, figures, today, convert)
        Picking = self.env["stock.picking"]
        deliveries = self._c360_deliveries(ids) if len(ids) == 1 and Picking.has_access("read") else {}

        def money(amount):
            return format_amount(self.env, amount, currency)

        summaries = {}
        for partner in partners.with_company(company):
            row = figures[partner.id]
            summary = {
                "partner_id": partner.id,
                "partner_name": partner.display_name,
                "currency_id": currency.id,
                "opportunities": int(row["opportunities"]),
                "pipeline": row["pipeline"],
                "pipeline_text": money(row["pipeline"]),
                "score": int(row.get("score", 0)),
                "quotations": int(row["quotations"]),
                "quotations_amount_text": money(row["quotations_amount"]),
                "orders": int(row["orders"]),
                "orders_amount_text": money(row["orders_amount"]),
                "deliveries": int(row["deliveries"]),
                "deliveries_late": int(row["deliveries_late"]),
                "delivery_list": deliveries.get(partner.id, []),
                "tickets": int(row["tickets"]),
                "tickets_failed": int(row["tickets_failed"]),
                "accounting": accounting,
                "health": partner.c360_health if partner.c360_health_date else False,
                "health_trend": partner.c360_health_trend or "",
                "health_reasons": partner.c360_health_reasons or "",
                "churn_risk": partner.c360_churn_risk,
            }
            if accounting:
                summary.update(partner._c360_credit(row, money))
            summaries[partner.id] = summary
        return summaries

    def _c360_credit(self, row, money):
        """The accounting part of one customer's summary: receivables and credit used."""
        company = self.env.company
        used = row["invoices_open"] + row["to_invoice"]
        limit = self.credit_limit if self.use_partner_credit_limit else 0.0
        if not limit and company.account_use_credit_limit:
            limit = company.account_default_credit_limit
        return {
            "invoices_open": row["invoices_open"],
            "invoices_open_text": money(row["invoices_open"]),
            "invoices_overdue": row["invoices_overdue"],
            "invoices_overdue_text": money(row["invoices_overdue"]),
            "invoices_open_count": int(row["invoices_open_count"]),
            "credit_used": used,
            "credit_used_text": money(used),
            "credit_limit": limit,
            "credit_limit_text": money(limit) if limit else "",
            "credit_share": round(used / limit * 100) if limit else 0,
        }

    def _c360_sales(self, ids, figures, convert):
        """Open opportunities (their weighted revenue, the best score), quotations and orders."""
        Lead = self.env["crm.lead"]
        if Lead.has_access("read"):
            for partner, lead_company, count, weighted, best in Lead._read_group(
                [
                    ("partner_id.commercial_partner_id", "in", ids),
                    ("type", "=", "opportunity"),
                    ("won_status", "=", "pending"),
                ],
                ["partner_id.commercial_partner_id", "company_id"],
                ["__count", "prorated_revenue:sum", "score:max"],
            ):
                row = figures[partner.id]
                row["opportunities"] += count
                row["pipeline"] += convert(
                    weighted, lead_company.currency_id or self.env.company.currency_id, lead_company
                )
                row["score"] = max(row.get("score", 0), best or 0)
        Order = self.env["sale.order"]
        if Order.has_access("read"):
            for partner, state, order_currency, count, total in Order._read_group(
                [("partner_id.commercial_partner_id", "in", ids), ("state", "in", ("draft", "sent", "sale"))],
                ["partner_id.commercial_partner_id", "state", "currency_id"],
                ["__count", "amount_total:sum"],
            ):
                kind = "orders" if state == "sale" else "quotations"
                row = figures[partner.id]
                row[kind] += count
                row[f"{kind}_amount"] += convert(total, order_currency)

    def _c360_support(self, ids, figures):
        """Open deliveries (late: past their scheduled date) and open tickets (SLA failed)."""
        Picking = self.env["stock.picking"]
        if Picking.has_access("read"):
            base = Domain("partner_id.commercial_partner_id", "in", ids) & Domain("picking_type_code", "=", "outgoing")
            base &= Domain("state", "in", OPEN_PICKING_STATES)
            late = Domain("scheduled_date", "<", self._c360_late_before())
            for key, domain in (("deliveries", base), ("deliveries_late", base & late)):
                for partner, count in Picking._read_group(domain, ["partner_id.commercial_partner_id"], ["__count"]):
                    figures[partner.id][key] += count
        Ticket = self.env["support.ticket"]
        if Ticket.has_access("read"):
            for partner, status, count in Ticket._read_group(
                [("commercial_partner_id", "in", ids), ("is_closed", "=", False)],
                ["commercial_partner_id", "sla_status"],
                ["__count"],
            ):
                row = figures[partner.id]
                row["tickets"] += count
                if status == "failed":
                    row["tickets_failed"] += count

    def _c360_accounting(self, ids, figures, today, convert):
        """Open and overdue receivables (posted, unpaid customer invoices and credit notes) and
        what confirmed orders still have to invoice: the credit the customer uses."""
        Move = self.env["account.move"]
        if not Move.has_access("read"):
            return
        unpaid = Domain(
            [
                ("commercial_partner_id", "in", ids),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        for key, domain in (
            ("invoices_open", unpaid),
            ("invoices_overdue", unpaid & Domain("invoice_date_due", "<", today)),
        ):
            for partner, move_company, count, residual in Move._read_group(
                domain, ["commercial_partner_id", "company_id"], ["__count", "amount_residual_signed:sum"]
            ):
                row = figures[partner.id]
                row[key] += convert(residual, move_company.currency_id, move_company)
                row[f"{key}_count"] += count
        company = self.env.company
        # sudo: one total per customer of what the current company's confirmed orders still have to
        # invoice, for the accounting readers only (checked by _c360_summaries): the credit Odoo shows
        # them too. No order is read or shown; a reader who may not read them still gets the total.
        to_invoice = self.env["sale.order"].sudo()._q2c_open_order_amounts(company, self.browse(ids))
        for partner_id, amount in to_invoice.items():
            figures[partner_id]["to_invoice"] += amount

    @api.model
    def _c360_late_before(self):
        """A delivery is late once the day it was planned for has passed (the reader's day)."""
        return fields.Datetime.to_datetime(fields.Date.context_today(self))

    def _c360_deliveries(self, ids):
        """The open deliveries of one customer, late ones first, with their status: what a support
        agent answers "where is my parcel?" with."""
        pickings = self.env["stock.picking"].search(
            [
                ("partner_id.commercial_partner_id", "in", ids),
                ("picking_type_code", "=", "outgoing"),
                ("state", "in", OPEN_PICKING_STATES),
            ],
            order="scheduled_date, id",
            limit=DELIVERIES_SHOWN,
        )
        result = defaultdict(list)
        for row, picking in zip(self._c360_delivery_rows(pickings), pickings, strict=True):
            result[picking.partner_id.commercial_partner_id.id].append(row)
        for rows in result.values():
            rows.sort(key=lambda r: not r["late"])
        return result

    @api.model
    def _c360_delivery_rows(self, pickings):
        """One row per delivery, in the order given: its status, and the day it is planned for (or
        the day it left); late when still open after its planned day."""
        states = dict(pickings._fields["state"]._description_selection(self.env))
        late_before = self._c360_late_before()
        rows = []
        for picking in pickings:
            done = picking.state == "done"
            planned = picking.scheduled_date
            rows.append(
                {
                    "id": picking.id,
                    "name": picking.name,
                    "origin": picking.origin or "",
                    "state": picking.state,
                    "state_label": states.get(picking.state, picking.state),
                    "scheduled": format_date(self.env, picking.date_done if done else planned),
                    "late": bool(picking.state in OPEN_PICKING_STATES and planned and planned < late_before),
                }
            )
        return rows

    # ------------------------------------------------------------------
    # The lists behind the figures
    # ------------------------------------------------------------------

    def _c360_action(self, kind):
        self.ensure_one()
        partner_domain = [("partner_id", "child_of", self.commercial_partner_id.id)]
        actions = {
            "opportunities": (
                "crm.crm_lead_opportunities",
                [*partner_domain, ("type", "=", "opportunity"), ("won_status", "=", "pending")],
            ),
            "quotations": (
                "sale.action_quotations_with_onboarding",
                [*partner_domain, ("state", "in", ("draft", "sent"))],
            ),
            "orders": ("sale.action_orders", [*partner_domain, ("state", "=", "sale")]),
            "deliveries": (
                "stock.action_picking_tree_all",
                [*partner_domain, ("picking_type_code", "=", "outgoing"), ("state", "in", OPEN_PICKING_STATES)],
            ),
            "deliveries_late": (
                "stock.action_picking_tree_all",
                [
                    *partner_domain,
                    ("picking_type_code", "=", "outgoing"),
                    ("state", "in", OPEN_PICKING_STATES),
                    ("scheduled_date", "<", self._c360_late_before()),
                ],
            ),
            "tickets": (
                "support_desk.action_support_ticket",
                [("commercial_partner_id", "=", self.commercial_partner_id.id), ("is_closed", "=", False)],
            ),
            "tickets_failed": (
                "support_desk.action_support_ticket",
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("is_closed", "=", False),
                    ("sla_status", "=", "failed"),
                ],
            ),
        }
        if self.env.user.has_groups(ACCOUNTING_GROUPS):
            open_invoices = [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
            actions["invoices"] = ("account.action_move_out_invoice_type", open_invoices)
            actions["invoices_overdue"] = (
                "account.action_move_out_invoice_type",
                [*open_invoices, ("invoice_date_due", "<", fields.Date.context_today(self))],
            )
        if kind == "health":
            return {
                "type": "ir.actions.act_window",
                "res_model": "res.partner",
                "res_id": self.commercial_partner_id.id,
                "views": [(False, "form")],
                "target": "current",
            }
        if kind not in actions:
            raise UserError(self.env._("There is no list for %(kind)s.", kind=kind))
        xmlid, domain = actions[kind]
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action.update(
            {
                "domain": domain,
                "context": {"create": False, "search_default_my_quotation": False, "active_test": True},
                "name": self.env._(
                    "%(customer)s: %(list)s", customer=self.commercial_partner_id.name, list=action["name"]
                ),
            }
        )
        return action

    # ------------------------------------------------------------------
    # Health: facts (set-based), weighed by the engine, stored by batch
    # ------------------------------------------------------------------

    @api.model
    def _c360_health_facts(self, ids, now=None):
        """``{commercial partner id: facts}`` for :func:`..engine.health.assess`, in four queries
        whatever the number of customers and the length of their history, from the documents of
        the current company only: the health it stores is what this company's users read."""
        now = now or fields.Datetime.now()
        today = now.date()
        recent = now - timedelta(days=HEALTH_PERIOD_DAYS)
        before = now - timedelta(days=2 * HEALTH_PERIOD_DAYS)
        two_years = now - timedelta(days=730)
        year_ago = today - timedelta(days=365)
        company = self.env.company
        facts = {pid: {} for pid in ids}
        if not ids:
            return facts
        for model, names in (
            ("sale.order", ["state", "partner_id", "company_id", "date_order", "amount_untaxed", "currency_id"]),
            (
                "account.move",
                ["state", "move_type", "commercial_partner_id", "company_id", "invoice_date_due", "payment_state"],
            ),
            ("support.ticket", ["commercial_partner_id", "company_id", "is_closed", "sla_breached"]),
        ):
            self.env[model].flush_model(names)
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date"])
        self.env["rating.rating"].flush_model(["res_model", "res_id", "partner_id", "rating", "consumed"])

        # Buying: revenue and orders of the two periods, last order, rhythm over two years.
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id, so.currency_id,
                       SUM(so.amount_untaxed) FILTER (WHERE so.date_order >= %(recent)s),
                       SUM(so.amount_untaxed) FILTER (WHERE so.date_order >= %(before)s AND so.date_order < %(recent)s),
                       COUNT(*) FILTER (WHERE so.date_order >= %(recent)s),
                       COUNT(*) FILTER (WHERE so.date_order >= %(before)s AND so.date_order < %(recent)s),
                       MAX(so.date_order),
                       MIN(so.date_order) FILTER (WHERE so.date_order >= %(two_years)s),
                       COUNT(*) FILTER (WHERE so.date_order >= %(two_years)s)
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND so.company_id = %(company)s AND p.commercial_partner_id = ANY(%(ids)s)
              GROUP BY 1, 2
                """,
                ids=list(ids),
                company=company.id,
                recent=recent,
                before=before,
                two_years=two_years,
            )
        )
        for (
            pid,
            currency_id,
            rev_recent,
            rev_before,
            n_recent,
            n_before,
            last,
            first,
            n_window,
        ) in self.env.cr.fetchall():
            row = facts[pid]
            currency = self.env["res.currency"].browse(currency_id)
            convert = (
                (lambda amount, c=currency: c._convert(amount, company.currency_id, company, today))
                if currency != company.currency_id
                else (lambda amount: amount)
            )
            row["revenue_recent"] = row.get("revenue_recent", 0.0) + convert(rev_recent or 0.0)
            row["revenue_before"] = row.get("revenue_before", 0.0) + convert(rev_before or 0.0)
            row["orders_recent"] = row.get("orders_recent", 0) + n_recent
            row["orders_before"] = row.get("orders_before", 0) + n_before
            if last and (not row.get("last_order") or last > row["last_order"]):
                row["last_order"] = last
            if first and (not row.get("first_order") or first < row["first_order"]):
                row["first_order"] = first
            row["orders_window"] = row.get("orders_window", 0) + n_window
        for row in facts.values():
            if row.get("last_order"):
                row["days_since_order"] = (now - row["last_order"]).total_seconds() / 86400.0
                if row.get("orders_window", 0) >= 3 and row.get("first_order"):
                    window_last = row["last_order"]
                    span = (window_last - row["first_order"]).total_seconds() / 86400.0
                    row["rhythm_days"] = max(1.0, span / (row["orders_window"] - 1))

        # Payments: invoices due this year paid late (after their due date) or still unpaid.
        self.env.cr.execute(
            SQL(
                """
                SELECT m.commercial_partner_id,
                       COUNT(*) FILTER (WHERE m.invoice_date_due >= %(year_ago)s),
                       COUNT(*) FILTER (WHERE m.invoice_date_due >= %(year_ago)s
                                          AND (m.payment_state IN ('not_paid', 'partial')
                                               OR paid.last_date > m.invoice_date_due)),
                       SUM(m.amount_residual_signed) FILTER (WHERE m.payment_state IN ('not_paid', 'partial'))
                  FROM account_move m
             LEFT JOIN LATERAL (
                           SELECT MAX(apr.max_date) AS last_date
                             FROM account_move_line l
                             JOIN account_partial_reconcile apr ON apr.debit_move_id = l.id
                            WHERE l.move_id = m.id AND l.display_type = 'payment_term'
                       ) paid ON m.payment_state IN ('paid', 'in_payment', 'partial')
                 WHERE m.commercial_partner_id = ANY(%(ids)s) AND m.company_id = %(company)s
                   AND m.move_type = 'out_invoice' AND m.state = 'posted'
                   AND m.invoice_date_due < %(today)s
                   AND (m.invoice_date_due >= %(year_ago)s OR m.payment_state IN ('not_paid', 'partial'))
              GROUP BY 1
                """,
                ids=list(ids),
                company=company.id,
                today=today,
                year_ago=year_ago,
            )
        )
        for pid, due, late, overdue in self.env.cr.fetchall():
            # the signed residual is in the company's currency already
            facts[pid].update(invoices_due=due, invoices_late=late, overdue_amount=overdue or 0.0)

        # Support: open tickets, SLA failures of the period, ratings of the year.
        self.env.cr.execute(
            SQL(
                """
                SELECT commercial_partner_id,
                       COUNT(*) FILTER (WHERE NOT is_closed),
                       COUNT(*) FILTER (WHERE sla_breached AND create_date >= %(recent)s)
                  FROM support_ticket
                 WHERE commercial_partner_id = ANY(%(ids)s) AND company_id = %(company)s AND active
                   AND (NOT is_closed OR create_date >= %(recent)s)
              GROUP BY 1
                """,
                ids=list(ids),
                company=company.id,
                recent=recent,
            )
        )
        for pid, open_count, failed in self.env.cr.fetchall():
            facts[pid].update(tickets_open=open_count, tickets_failed=failed)
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id, AVG(r.rating), COUNT(*)
                  FROM rating_rating r
                  JOIN res_partner p ON p.id = r.partner_id
                  JOIN support_ticket t ON t.id = r.res_id AND r.res_model = 'support.ticket'
                 WHERE r.consumed AND r.rating > 0 AND t.company_id = %(company)s
                   AND r.create_date >= %(year_ago)s AND p.commercial_partner_id = ANY(%(ids)s)
              GROUP BY 1
                """,
                ids=list(ids),
                company=company.id,
                year_ago=year_ago,
            )
        )
        for pid, average, count in self.env.cr.fetchall():
            facts[pid].update(rating_avg=float(average), rating_count=count)
        return facts

    @api.model
    def _c360_health_threshold(self):
        # sudo: reading a setting of this addon.
        value = self.env["ir.config_parameter"].sudo().get_param("crm_customer_360.health_threshold", 50)
        try:
            return int(value)
        except (TypeError, ValueError):
            return 50

    @api.model
    def _c360_health_day_start(self):
        """The start of today (the job's user's day) as a UTC moment, what a measure's date is compared with.

        A measure dated now (UTC) is always on or after it: a customer measured today is no longer due.
        """
        today = fields.Date.context_today(self)
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        return tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _c360_health_due(self, start):
        """The condition "a customer (commercial partner) of the current company, or shared by every
        company, not measured in this company since ``start``"."""
        measured_on = self._field_to_sql("res_partner", "c360_health_date")
        return SQL(
            """active AND customer_rank > 0 AND id = commercial_partner_id
               AND (company_id IS NULL OR company_id = %(company)s)
               AND (%(measured_on)s IS NULL OR %(measured_on)s < %(start)s)""",
            company=self.env.company.id,
            measured_on=measured_on,
            start=start,
        )

    @api.model
    def _c360_health_todo(self, limit=None, start=None):
        """Customers due for a measure in the current company today, the oldest measured first,
        locked: customers another run holds are skipped (two servers never measure one twice).

        ``FOR NO KEY UPDATE`` is the lock the measure's UPDATE takes anyway: it does not hold up
        the documents created for these customers meanwhile (their foreign keys only share it).
        """
        self.flush_model(["commercial_partner_id", "customer_rank", "active", "company_id", "c360_health_date"])
        start = start or self._c360_health_day_start()
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM res_partner
                 WHERE %(due)s
              ORDER BY %(measured_on)s NULLS FIRST, id
                 LIMIT %(limit)s
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                due=self._c360_health_due(start),
                measured_on=self._field_to_sql("res_partner", "c360_health_date"),
                limit=limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _c360_health_due_count(self, companies, start=None):
        """How many (customer, company) measures are still due today in these companies: one query,
        one pass over the customers."""
        self.flush_model(["commercial_partner_id", "customer_rank", "active", "company_id", "c360_health_date"])
        if not companies:
            return 0
        start = start or self._c360_health_day_start()
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM res_partner WHERE active AND customer_rank > 0 AND id = commercial_partner_id",
                SQL(" + ").join(
                    SQL("count(*) FILTER (WHERE %s)", self.with_company(company)._c360_health_due(start))
                    for company in companies
                ),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _c360_health_batch_size(self):
        return batch.batch_size(self.env, "crm_customer_360.health_batch_size", HEALTH_BATCH)

    def _c360_measure_health(self, now=None):
        """Measure these customers' health in the current company, store it, and ask the account
        manager to act on the customers whose health fell below the threshold or whose buying
        trend turned down."""
        now = now or fields.Datetime.now()
        partners = self.commercial_partner_id
        if not partners:
            return self.browse()
        facts = self._c360_health_facts(partners.ids, now)
        threshold = self._c360_health_threshold()
        currency = self.env.company.currency_id

        def money(amount):
            return format_amount(self.env, amount, currency)

        values = []
        alerts = {}
        previous = {p.id: (p.c360_health, p.c360_health_trend, p.c360_health_date) for p in partners}
        for pid in partners.ids:
            result = health_engine.assess(facts[pid], self.env._, money=money)
            reasons = "\n".join(text for _points, text in result.reasons)
            at_risk = result.score < threshold or result.trend == "down"
            values.append((pid, result.score, result.trend, reasons, at_risk))
            old_score, old_trend, measured = previous[pid]
            fell = result.score < threshold and (not measured or old_score >= threshold)
            turned = result.trend == "down" and old_trend != "down"
            if fell or turned:
                alerts[pid] = (result, fell)
        # One UPDATE for the batch: the fields are this addon's own, with no tracking; each holds
        # one value per company (company-dependent), of which this company's is replaced.
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET c360_health = COALESCE(p.c360_health, '{}') || jsonb_build_object(%(key)s, v.score),
                       c360_health_trend = COALESCE(p.c360_health_trend, '{}') || jsonb_build_object(%(key)s, v.trend),
                       c360_health_reasons = COALESCE(p.c360_health_reasons, '{}')
                                             || jsonb_build_object(%(key)s, v.reasons),
                       c360_churn_risk = COALESCE(p.c360_churn_risk, '{}') || jsonb_build_object(%(key)s, v.risk),
                       c360_health_date = COALESCE(p.c360_health_date, '{}')
                                          || jsonb_build_object(%(key)s, %(now)s::timestamp)
                  FROM (VALUES %(values)s) AS v(id, score, trend, reasons, risk)
                 WHERE p.id = v.id
                """,
                key=str(self.env.company.id),
                now=now,
                values=SQL(", ").join(SQL("(%s, %s, %s, %s, %s)", *row) for row in values),
            )
        )
        partners.invalidate_recordset(
            ["c360_health", "c360_health_trend", "c360_health_reasons", "c360_churn_risk", "c360_health_date"]
        )
        if alerts:
            self.browse(list(alerts))._c360_retention_activities(alerts, threshold)
        return partners

    def _c360_retention_activities(self, alerts, threshold):
        """An activity for each account manager whose customer needs a retention action, with the
        reasons written out, unless one is still open; a note in the customer's chatter either way."""
        activity_type = self.env.ref("crm_customer_360.mail_activity_type_retention", raise_if_not_found=False)
        open_activities = set()
        if activity_type:
            # sudo: which customers already have a retention activity, whoever it is assigned to.
            open_activities = {
                a.res_id
                for a in self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", "res.partner"),
                        ("res_id", "in", self.ids),
                        ("activity_type_id", "=", activity_type.id),
                    ]
                )
            }
        bodies = {}
        activities = []
        model_id = self.env["ir.model"]._get_id("res.partner")
        # A customer shared by several companies has a health in each: the words say whose it is.
        # sudo: whether the database has more than one company, whichever the reader may see.
        company = self.env.company.name if self.env["res.company"].sudo().search_count([], limit=2) > 1 else ""
        for partner in self:
            result, fell = alerts[partner.id]
            if fell:
                headline = self.env._(
                    "Health %(score)s, below the churn-risk threshold of %(threshold)s.",
                    score=result.score,
                    threshold=threshold,
                )
            else:
                headline = self.env._("Buying trend turned down (health %(score)s).", score=result.score)
            if company:
                headline = self.env._("%(company)s: %(headline)s", company=company, headline=headline)
            reasons = [text for _points, text in result.reasons]
            bodies[partner.id] = "\n".join([headline, *reasons])
            # The account manager is the customer's salesperson; without one, the chatter note is left.
            user = partner.user_id
            if activity_type and user and partner.id not in open_activities:
                activities.append(
                    {
                        "res_model_id": model_id,
                        "res_id": partner.id,
                        "activity_type_id": activity_type.id,
                        "summary": self.env._("Retention: %(headline)s", headline=headline),
                        "note": "<br/>".join([headline, *reasons]),
                        "user_id": user.id,
                        "date_deadline": fields.Date.context_today(self)
                        + timedelta(days=activity_type.delay_count or 3),
                    }
                )
        if activities:
            # sudo: the measure (the nightly job, or the button of whoever may change the customer)
            # assigns the engine's activity to the account manager, who may not be its user.
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(activities)
        self._message_log_batch(bodies={pid: body for pid, body in bodies.items()})

    @api.model
    def _cron_c360_health(self, batch_size=None, commit=True):
        """Measure every customer due today in each company, a batch at a time, committing each.

        A job of the suite's pattern (``suite_batch_job``): a batch is the due customers of the
        first company (by id) that has some, measured in that company; the progress says how
        many measures are still due in all companies, so that a call that runs out of time
        leaves the rest to the next call, which resumes there (a measured customer is no longer
        due in that company today).

        :param batch_size: customers a batch; by default the system parameter
            ``crm_customer_360.health_batch_size`` (1000)
        :param commit: ``False`` inside a caller's transaction (tests, demo data): run to the end
        :return: how many measures were made (a customer shared by companies counts once in each)
        """
        # sudo: the nightly measure covers the customers of every company, whichever companies
        # the job's user belongs to; it writes the health fields alone.
        Partner = self.sudo()
        companies = self.env["res.company"].sudo().search([], order="id")  # pylint: disable=no-search-all
        start = Partner._c360_health_day_start()
        reported = {"left": 0}

        def claim(limit):
            # (company id, customer id): a customer shared by every company is due in each
            for company in companies:
                if ids := Partner.with_company(company)._c360_health_todo(limit=limit, start=start):
                    return [(company.id, pid) for pid in ids]
            return []

        def process(keys):
            company_id = keys[0][0]
            Partner.with_company(company_id).browse([pid for _company, pid in keys])._c360_measure_health()

        def left():
            reported["left"] = Partner._c360_health_due_count(companies, start)
            return reported["left"]

        measured = batch.run(
            self.env,
            "Customer 360: health",
            claim,
            process,
            left,
            batch_size=batch_size or self._c360_health_batch_size(),
            commit=commit,
        )
        if reported["left"]:
            _logger.info("Customer 360: health of %s customers measured, the rest next run", measured)
        else:
            _logger.info("Customer 360: health of %s customers measured", measured)
        return measured

    def action_c360_measure_health(self):
        # a button any client can call over RPC: the measure writes as the engine, so it is only for
        # those who may change these customers
        self.check_access("write")
        self._c360_measure_health()
        return True
