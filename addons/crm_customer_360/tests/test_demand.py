from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestPipelineDemand(Customer360Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.next_month = cls.today + relativedelta(months=1, day=15)
        cls.dozen = cls.env.ref("uom.product_uom_dozen")

    def quotation(self, lead, lines):
        return self.env["sale.order"].create(
            {
                "partner_id": lead.partner_id.id,
                "opportunity_id": lead.id,
                "order_line": [
                    Command.create({"product_id": self.widget.id, "product_uom_qty": qty, "product_uom_id": uom.id})
                    for qty, uom in lines
                ],
            }
        )

    def demand(self, **domain):
        rows = self.env["crm.c360.demand.report"]._read_group(
            [("product_id", "=", self.widget.id), *[(k, "=", v) for k, v in domain.items()]],
            ["date:day"],
            ["expected_quantity:sum"],
        )
        return {day: round(quantity, 4) for day, quantity in rows}

    def test_open_opportunities_weighted_by_probability_per_month(self):
        unit = self.widget.uom_id
        soon = self.make_opportunity(self.acme, 1000.0, 40.0, date_deadline=self.next_month)
        self.quotation(soon, [(10, unit), (1, self.dozen)])  # 10 + 12 units at 40 %
        now = self.make_opportunity(self.ann, 500.0, 50.0, date_deadline=self.today)
        self.quotation(now, [(6, unit)])
        won = self.make_opportunity(self.acme, 800.0, 90.0)
        self.quotation(won, [(100, unit)])
        won.action_set_won()
        confirmed = self.quotation(self.make_opportunity(self.acme, 10.0, 80.0), [(50, unit)])
        confirmed.action_confirm()
        self.assertEqual(
            self.demand(),
            {self.today.replace(day=1): 3.0, self.next_month.replace(day=1): 8.8},
        )
        self.widget.product_tmpl_id.invalidate_recordset(["c360_expected_demand"])
        self.assertAlmostEqual(self.widget.product_tmpl_id.c360_expected_demand, 11.8)
        action = self.widget.product_tmpl_id.action_c360_expected_demand()
        self.assertEqual(len(self.env["crm.c360.demand.report"].search(action["domain"])), 3)

    def test_the_replenishment_view_shows_the_demand_up_to_its_horizon(self):
        orderpoint = self.env["stock.warehouse.orderpoint"].create(
            {"product_id": self.widget.id, "warehouse_id": self.warehouse.id, "location_id": self.stock_location.id}
        )
        horizon = orderpoint.lead_horizon_date or self.today
        self.quotation(self.make_opportunity(self.acme, 1.0, 50.0, date_deadline=self.today), [(8, self.widget.uom_id)])
        later = self.make_opportunity(self.acme, 1.0, 50.0, date_deadline=horizon + relativedelta(months=2))
        self.quotation(later, [(100, self.widget.uom_id)])
        orderpoint.invalidate_recordset(["c360_pipeline_demand"])
        self.assertAlmostEqual(orderpoint.c360_pipeline_demand, 4.0, msg="beyond the horizon does not count")


@tagged("post_install", "-at_install")
class TestQuotedAvailability(Customer360Common):
    def test_the_opportunity_lists_its_quoted_products_with_the_next_receipt(self):
        lead = self.make_opportunity(self.acme, 1000.0, 40.0)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.acme.id,
                "opportunity_id": lead.id,
                "order_line": [Command.create({"product_id": self.widget.id, "product_uom_qty": 7})],
            }
        )
        line = order.order_line
        self.assertEqual(lead.c360_quotation_line_ids, line)
        self.assertEqual(line.qty_available_today, 500)
        self.assertEqual(line.c360_next_receipt, "none planned")
        receipt_type = self.warehouse.in_type_id
        when = fields.Datetime.now() + relativedelta(days=9)
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": receipt_type.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.stock_location.id,
                "scheduled_date": when,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": self.widget.id,
                            "product_uom_qty": 30,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": self.stock_location.id,
                            "date": when,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        line.invalidate_recordset(["c360_next_receipt"])
        self.assertIn("30", line.c360_next_receipt)
        self.assertIn(fields.Date.to_string(when.date())[:4], line.c360_next_receipt)
        order.action_confirm()
        lead.invalidate_recordset(["c360_quotation_line_ids"])
        self.assertFalse(lead.c360_quotation_line_ids, "a confirmed order is no longer a quotation")
