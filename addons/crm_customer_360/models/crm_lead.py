from odoo import fields, models
from odoo.tools import SQL

from odoo.addons.crm_lead_scoring.engine import features
from odoo.addons.suite_batch_job import batch

from .res_partner import ACCOUNTING_GROUPS

# The facts the ERP adds to lead scoring (the keys of their columns).
ERP_COLUMNS = (
    "erp_customer",
    "erp_revenue_12m",
    "erp_orders",
    "erp_days_since_order",
    "erp_late_share",
    "erp_overdue",
    "erp_tickets_open",
    "erp_rating",
)


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "customer.360.mixin"]

    c360_quotation_line_ids = fields.One2many(
        "sale.order.line",
        compute="_compute_c360_quotation_line_ids",
        string="Quoted Products",
        help="The products of this opportunity's open quotations, with their availability for the committed date.",
    )

    def _c360_partner(self):
        return self.partner_id.commercial_partner_id

    def _compute_c360_quotation_line_ids(self):
        for lead in self:
            lead.c360_quotation_line_ids = lead.order_ids.filtered(
                lambda order: order.state in ("draft", "sent")
            ).order_line.filtered(lambda line: not line.display_type)

    # ------------------------------------------------------------------
    # ERP facts for the scoring engine of crm_lead_scoring
    # ------------------------------------------------------------------

    def _scoring_extra_columns(self, rows, now):
        """What the ERP knows of the lead's company, measured at each lead's own moment (its
        closing date for a closed lead: the model must not learn from what came after), in
        three queries for any number of leads. The lead's own orders are left out: they are
        the outcome being predicted. The amounts are put in words for the accounting groups
        only, as in the customer's summary."""
        columns = super()._scoring_extra_columns(rows, now)
        facts = self._c360_scoring_facts(rows)
        of_row = [facts.get(row["id"], {}) for row in rows]

        def values(key, default=None):
            return [lead_facts.get(key, default) for lead_facts in of_row]

        return columns + [
            features.Column(
                "erp_customer",
                self.env._("Already a customer"),
                features.BOOL,
                [bool(orders) for orders in values("orders", 0)],
            ),
            features.Column(
                "erp_revenue_12m",
                self.env._("Revenue of the last 12 months"),
                features.LOG,
                values("revenue", 0.0),
                describe=self.env._("{value:,.0f} bought in the last 12 months"),
                groups=ACCOUNTING_GROUPS,
            ),
            features.Column(
                "erp_orders",
                self.env._("Orders placed"),
                features.LOG,
                values("orders", 0),
                describe=self.env._("{value:g} orders placed"),
            ),
            features.Column(
                "erp_days_since_order",
                self.env._("Days since the last order"),
                features.LOG,
                values("days_since_order"),
                describe=self.env._("last order {value:.0f} days ago"),
            ),
            features.Column(
                "erp_late_share",
                self.env._("Share of invoices paid late"),
                features.NUMERIC,
                values("late_share"),
                describe=self.env._("{value:.0%} of the invoices paid late"),
            ),
            features.Column(
                "erp_overdue",
                self.env._("Overdue amount"),
                features.LOG,
                values("overdue", 0.0),
                describe=self.env._("{value:,.0f} overdue"),
                groups=ACCOUNTING_GROUPS,
            ),
            features.Column(
                "erp_tickets_open",
                self.env._("Open support tickets"),
                features.LOG,
                values("tickets_open", 0),
                describe=self.env._("{value:g} support tickets open"),
            ),
            features.Column(
                "erp_rating",
                self.env._("Support satisfaction"),
                features.NUMERIC,
                values("rating"),
                describe=self.env._("support rated {value:.1f} out of 5"),
            ),
        ]

    def _c360_scoring_facts(self, rows):
        """``{lead id: facts}`` for the leads of ``rows`` whose company or contact is known, from
        the documents of the lead's own company (of the current one for a lead without company):
        what its readers may see, never another company's orders, invoices or tickets."""
        known = [r for r in rows if r.get("commercial_partner_id")]
        if not known:
            return {}
        for model, names in (
            (
                "sale.order",
                [
                    "state",
                    "partner_id",
                    "company_id",
                    "date_order",
                    "amount_untaxed",
                    "currency_rate",
                    "opportunity_id",
                ],
            ),
            (
                "account.move",
                [
                    "state",
                    "move_type",
                    "commercial_partner_id",
                    "company_id",
                    "invoice_date_due",
                    "amount_total_signed",
                ],
            ),
            ("support.ticket", ["commercial_partner_id", "company_id", "create_date", "date_closed"]),
            ("rating.rating", ["res_model", "res_id", "partner_id", "rating", "consumed"]),
        ):
            self.env[model].flush_model(names)
        leads = SQL(
            """SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::timestamp[])
                          AS l(lead_id, partner_id, company_id, at)""",
            # each array one literal: a list is parsed element by element, 20 ms a batch
            batch.pg_array(r["id"] for r in known),
            batch.pg_array(r["commercial_partner_id"] for r in known),
            batch.pg_array(r["company_id"] or self.env.company.id for r in known),
            batch.pg_array(r["measured_at"] for r in known),
        )
        facts = {r["id"]: {} for r in known}
        # One statement, each kind of fact a part of the UNION tagged by its letter (the leads'
        # arrays read and the statement planned once, where three statements cost 8 ms more a batch):
        # o: orders before the lead's moment, its own excepted; revenue of the 12 months before it;
        # i: invoices due before the lead's moment, paid late (or not paid by then), still owed then;
        # t: tickets open at the lead's moment; r: the ratings given before it.
        self.env.cr.execute(
            SQL(
                """
                WITH l AS (%(leads)s),
                orders AS (
                    SELECT l.lead_id, COUNT(so.id)::float8 AS a,
                           SUM(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1))
                               FILTER (WHERE so.date_order >= l.at - INTERVAL '365 days')::float8 AS b,
                           (EXTRACT(EPOCH FROM l.at - MAX(so.date_order)) / 86400)::float8 AS c
                      FROM l
                      JOIN res_partner p ON p.commercial_partner_id = l.partner_id
                      JOIN sale_order so ON so.partner_id = p.id AND so.company_id = l.company_id
                     WHERE so.state = 'sale' AND so.date_order < l.at
                       AND so.opportunity_id IS DISTINCT FROM l.lead_id
                  GROUP BY l.lead_id, l.at
                ),
                invoices AS (
                    SELECT l.lead_id, COUNT(m.id)::float8 AS a,
                           (COUNT(m.id) FILTER (WHERE paid.last_date IS NULL
                                                   OR paid.last_date > m.invoice_date_due))::float8 AS b,
                           (SUM(m.amount_total_signed) FILTER (WHERE paid.last_date IS NULL
                                                                  OR paid.last_date > l.at::date))::float8 AS c
                      FROM l
                      JOIN account_move m ON m.commercial_partner_id = l.partner_id AND m.company_id = l.company_id
                 LEFT JOIN LATERAL (
                               SELECT MAX(apr.max_date) AS last_date
                                 FROM account_move_line aml
                                 JOIN account_partial_reconcile apr ON apr.debit_move_id = aml.id
                                WHERE aml.move_id = m.id AND aml.display_type = 'payment_term'
                           ) paid ON TRUE
                     WHERE m.move_type = 'out_invoice' AND m.state = 'posted' AND m.invoice_date_due < l.at::date
                  GROUP BY l.lead_id
                ),
                -- joined and grouped: subqueries per lead cost enough in the planner's eyes to
                -- compile them, which took longer than running them
                tickets AS (
                    SELECT l.lead_id, COUNT(*)::float8 AS a
                      FROM l
                      JOIN support_ticket t ON t.commercial_partner_id = l.partner_id AND t.company_id = l.company_id
                     WHERE t.create_date < l.at AND (t.date_closed IS NULL OR t.date_closed > l.at)
                  GROUP BY l.lead_id
                ),
                ratings AS (
                    SELECT l.lead_id, AVG(r.rating)::float8 AS a
                      FROM l
                      JOIN res_partner rp ON rp.commercial_partner_id = l.partner_id
                      JOIN rating_rating r ON r.partner_id = rp.id
                      JOIN support_ticket t ON t.id = r.res_id AND t.company_id = l.company_id
                     WHERE r.res_model = 'support.ticket' AND r.consumed AND r.rating > 0 AND r.create_date < l.at
                  GROUP BY l.lead_id
                )
                SELECT 'o', lead_id, a, b, c FROM orders
                 UNION ALL SELECT 'i', lead_id, a, b, c FROM invoices
                 UNION ALL SELECT 't', lead_id, a, NULL, NULL FROM tickets
                 UNION ALL SELECT 'r', lead_id, a, NULL, NULL FROM ratings
                """,
                leads=leads,
            )
        )
        for kind, lead_id, a, b, c in self.env.cr.fetchall():
            if kind == "o":
                facts[lead_id].update(orders=int(a), revenue=b or 0.0, days_since_order=c)
            elif kind == "i":
                facts[lead_id].update(late_share=b / a if a else None, overdue=c or 0.0)
            elif kind == "t":
                facts[lead_id]["tickets_open"] = int(a)
            else:
                facts[lead_id]["rating"] = a
        return facts
