from odoo import fields, models, tools
from odoo.tools import SQL

from .sale_order import ACCEPTANCE_CHANNELS, Q2C_STATES


class SaleQ2cReport(models.Model):
    """One row per order that entered the chain: where it stands and how long each leg took."""

    _name = "sale.q2c.report"
    _description = "Quote-to-Cash Analysis"
    _auto = False
    _order = "accepted_on desc"

    order_id = fields.Many2one("sale.order", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    profile_id = fields.Many2one("sale.q2c.profile", string="Workflow Profile", readonly=True)
    state = fields.Selection(Q2C_STATES, string="Step", readonly=True)
    channel = fields.Selection(
        ACCEPTANCE_CHANNELS,
        string="Accepted Through",
        readonly=True,
    )
    accepted_on = fields.Datetime(readonly=True)
    amount = fields.Float(string="Untaxed Amount", readonly=True, aggregator="sum")
    nbr = fields.Integer(string="Orders", readonly=True, aggregator="sum")
    touchless_rate = fields.Float(
        string="No Manual Touch (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the finished orders that needed no approval, exception or retry.",
    )
    days_to_accept = fields.Float(string="Sent to Accepted (days)", readonly=True, aggregator="avg")
    days_to_deliver = fields.Float(string="Accepted to Delivered (days)", readonly=True, aggregator="avg")
    days_to_invoice = fields.Float(string="Delivered to Invoiced (days)", readonly=True, aggregator="avg")
    days_to_pay = fields.Float(string="Invoiced to Paid (days)", readonly=True, aggregator="avg")
    days_to_cash = fields.Float(string="Accepted to Paid (days)", readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        def days(start, end):
            return SQL("EXTRACT(EPOCH FROM (so.%s - so.%s)) / 86400.0", SQL.identifier(end), SQL.identifier(start))

        return SQL(
            """
            SELECT so.id AS id,
                   so.id AS order_id,
                   so.company_id,
                   so.team_id,
                   so.user_id,
                   so.partner_id,
                   so.q2c_profile_id AS profile_id,
                   so.q2c_state AS state,
                   so.q2c_acceptance_channel AS channel,
                   so.q2c_accepted_on AS accepted_on,
                   so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1) AS amount,
                   1 AS nbr,
                   CASE WHEN so.q2c_state = 'done' THEN (CASE WHEN so.q2c_touchless THEN 100.0 ELSE 0.0 END) END
                       AS touchless_rate,
                   %(to_accept)s AS days_to_accept,
                   %(to_deliver)s AS days_to_deliver,
                   %(to_invoice)s AS days_to_invoice,
                   %(to_pay)s AS days_to_pay,
                   %(to_cash)s AS days_to_cash
              FROM sale_order so
             WHERE so.q2c_state IS NOT NULL
            """,
            to_accept=days("q2c_sent_on", "q2c_accepted_on"),
            to_deliver=days("q2c_accepted_on", "q2c_delivered_on"),
            to_invoice=days("q2c_delivered_on", "q2c_invoiced_on"),
            to_pay=days("q2c_invoiced_on", "q2c_paid_on"),
            to_cash=days("q2c_accepted_on", "q2c_paid_on"),
        )


class SaleQ2cDsoReport(models.Model):
    """Days sales outstanding per company and month, from the receivable ledger.

    DSO = receivables at the end of the month / credit sales of the month x days in the month.
    """

    _name = "sale.q2c.dso.report"
    _description = "Days Sales Outstanding"
    _auto = False
    _order = "month desc"

    company_id = fields.Many2one("res.company", readonly=True)
    month = fields.Date(readonly=True)
    sales = fields.Float(string="Credit Sales", readonly=True, aggregator="sum")
    receivable = fields.Float(string="Receivables at Month End", readonly=True, aggregator="sum")
    dso = fields.Float(string="DSO (days)", readonly=True, aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    WITH monthly AS (
                        SELECT aml.company_id,
                               date_trunc('month', aml.date)::date AS month,
                               SUM(CASE WHEN am.move_type IN ('out_invoice', 'out_refund')
                                        THEN aml.balance ELSE 0 END) AS sales,
                               SUM(aml.balance) AS movement
                          FROM account_move_line aml
                          JOIN account_move am ON am.id = aml.move_id
                          JOIN account_account acc ON acc.id = aml.account_id
                         WHERE aml.parent_state = 'posted' AND acc.account_type = 'asset_receivable'
                      GROUP BY aml.company_id, date_trunc('month', aml.date)
                    ), cumulated AS (
                        SELECT company_id, month, sales,
                               SUM(movement) OVER (PARTITION BY company_id ORDER BY month) AS receivable
                          FROM monthly
                    )
                    SELECT row_number() OVER (ORDER BY company_id, month) AS id,
                           company_id, month, sales, receivable,
                           CASE WHEN sales > 0 THEN receivable / sales
                                * EXTRACT(DAY FROM (month + INTERVAL '1 month' - INTERVAL '1 day')) END AS dso
                      FROM cumulated
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
