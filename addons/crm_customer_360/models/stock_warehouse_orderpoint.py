from collections import defaultdict

from odoo import fields, models


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    c360_pipeline_demand = fields.Float(
        string="Pipeline Demand",
        compute="_compute_c360_pipeline_demand",
        digits="Product Unit",
        help="What the open opportunities' quotations are expected to take from this warehouse "
        "(quantities weighted by their probability) up to the replenishment horizon: not ordered yet, "
        "so not in the forecast.",
    )

    def _compute_c360_pipeline_demand(self):
        Demand = self.env["crm.c360.demand.report"]
        if not self or not Demand.has_access("read"):
            self.c360_pipeline_demand = 0.0
            return
        today = fields.Date.context_today(self)
        until = max((op.lead_horizon_date or today for op in self), default=today)
        demand = defaultdict(list)  # product id -> [(warehouse, month, quantity)]
        for product, warehouse, month, quantity in Demand._read_group(
            [("product_id", "in", self.product_id.ids), ("date", "<=", until)],
            ["product_id", "warehouse_id", "date:day"],
            ["expected_quantity:sum"],
        ):
            demand[product.id].append((warehouse, month, quantity))
        for orderpoint in self:
            horizon = orderpoint.lead_horizon_date or today
            orderpoint.c360_pipeline_demand = sum(
                quantity
                for warehouse, month, quantity in demand[orderpoint.product_id.id]
                if (not warehouse or warehouse == orderpoint.warehouse_id) and month <= horizon
            )
