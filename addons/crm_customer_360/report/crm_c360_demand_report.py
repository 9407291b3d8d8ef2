from odoo import fields, models
from odoo.tools import SQL


class CrmC360DemandReport(models.Model):
    """What the sales pipeline expects to sell, per product and month, before it is ordered.

    One row per quotation line linked to an open opportunity: its quantity (in the product's
    unit) weighted by the opportunity's probability, in the month the customer is expected to
    buy (the opportunity's expected closing date, else the quotation's delivery date, else its
    expiry date, else this month). Purchasing reads it on the product and in the replenishment
    view.
    """

    _name = "crm.c360.demand.report"
    _description = "Expected Demand from the Pipeline"
    _auto = False
    _order = "date, product_id"
    # The ORM flushes these before it reads the view.
    _depends = {
        "sale.order.line": ["order_id", "product_id", "product_uom_qty", "product_uom_id", "display_type"],
        "sale.order": [
            "state",
            "opportunity_id",
            "partner_id",
            "user_id",
            "team_id",
            "company_id",
            "warehouse_id",
            "commitment_date",
            "validity_date",
        ],
        "crm.lead": ["active", "won_status", "type", "probability", "date_deadline", "user_id", "team_id"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["type", "uom_id"],
        "uom.uom": ["factor"],
    }

    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product Template", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    order_id = fields.Many2one("sale.order", string="Quotation", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    date = fields.Date(string="Expected Month", readonly=True)
    probability = fields.Float(readonly=True, aggregator="avg")
    quantity = fields.Float(string="Quoted Quantity", readonly=True, aggregator="sum", digits="Product Unit")
    expected_quantity = fields.Float(
        readonly=True,
        aggregator="sum",
        digits="Product Unit",
        help="Quoted quantity weighted by the opportunity's probability.",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT sol.id AS id,
                   sol.product_id,
                   pp.product_tmpl_id,
                   l.id AS lead_id,
                   so.id AS order_id,
                   so.partner_id,
                   COALESCE(l.user_id, so.user_id) AS user_id,
                   COALESCE(l.team_id, so.team_id) AS team_id,
                   so.company_id,
                   so.warehouse_id,
                   GREATEST(
                       date_trunc('month', COALESCE(l.date_deadline, so.commitment_date::date, so.validity_date,
                                                    CURRENT_DATE)),
                       date_trunc('month', CURRENT_DATE)
                   )::date AS date,
                   l.probability,
                   sol.product_uom_qty * line_uom.factor / COALESCE(NULLIF(product_uom.factor, 0), 1) AS quantity,
                   sol.product_uom_qty * line_uom.factor / COALESCE(NULLIF(product_uom.factor, 0), 1)
                       * l.probability / 100.0 AS expected_quantity
              FROM sale_order_line sol
              JOIN sale_order so ON so.id = sol.order_id
              JOIN crm_lead l ON l.id = so.opportunity_id
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              JOIN uom_uom line_uom ON line_uom.id = sol.product_uom_id
              JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
             WHERE so.state IN ('draft', 'sent')
               AND l.active AND l.won_status = 'pending' AND l.type = 'opportunity'
               AND sol.display_type IS NULL AND pt.type = 'consu'
            """
        )
