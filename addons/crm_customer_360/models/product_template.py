from dateutil.relativedelta import relativedelta

from odoo import fields, models

DEMAND_MONTHS = 3  # what the product form shows: the expected demand of the next three months


class ProductTemplate(models.Model):
    _inherit = "product.template"

    c360_expected_demand = fields.Float(
        string="Pipeline Demand",
        compute="_compute_c360_expected_demand",
        digits="Product Unit",
        help="Quantities of the quotations linked to open opportunities, weighted by their probability, "
        "expected in the next three months.",
    )

    def _compute_c360_expected_demand(self):
        until = fields.Date.context_today(self) + relativedelta(months=DEMAND_MONTHS, day=1)
        Demand = self.env["crm.c360.demand.report"]
        demand = {}
        if Demand.has_access("read"):
            demand = {
                template.id: quantity
                for template, quantity in Demand._read_group(
                    [("product_tmpl_id", "in", self.ids), ("date", "<", until)],
                    ["product_tmpl_id"],
                    ["expected_quantity:sum"],
                )
            }
        for template in self:
            template.c360_expected_demand = demand.get(template.id, 0.0)

    def action_c360_expected_demand(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_customer_360.action_c360_demand")
        action["domain"] = [("product_tmpl_id", "=", self.id)]
        action["context"] = {"search_default_group_month": 1}
        action["display_name"] = self.env._("Pipeline demand: %(product)s", product=self.display_name)
        return action
