from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


class Customer360TourMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            "tour_c360",
            groups="sales_team.group_sale_manager,account.group_account_invoice,stock.group_stock_user,"
            "support_desk.group_support_manager",
        )
        cls.acme = cls.env["res.partner"].create({"name": "Tour Acme", "is_company": True})
        other = cls.env["res.partner"].create({"name": "Tour Other", "is_company": True})
        product = cls.env["product.product"].create(
            {"name": "Tour widget", "type": "consu", "is_storable": True, "list_price": 40.0, "taxes_id": False}
        )
        cls.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": product.id,
                "location_id": cls.env.ref("stock.warehouse0").lot_stock_id.id,
                "inventory_quantity": 50,
            }
        ).action_apply_inventory()
        orders = cls.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": cls.user.id,
                    "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 2})],
                }
                for partner in (cls.acme, cls.acme, other)
            ]
        )
        orders.action_confirm()
        orders[0].picking_ids.scheduled_date = fields.Datetime.now() - timedelta(days=3)
        cls.late_picking = orders[0].picking_ids
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.acme.id,
                "invoice_date": fields.Date.today() - timedelta(days=40),
                "invoice_date_due": fields.Date.today() - timedelta(days=10),
                "invoice_line_ids": [
                    Command.create({"name": "Work", "quantity": 1, "price_unit": 90.0, "tax_ids": False})
                ],
            }
        )
        invoice.action_post()
        cls.ticket = cls.env["support.ticket"].create({"name": "Where is my parcel?", "partner_id": cls.acme.id})
        # the customer quotes the reference of its other order (not late): the ticket is about it
        cls.order_ticket = cls.env["support.ticket"].create(
            {"name": f"Where is my order {orders[1].name}?", "partner_id": cls.acme.id}
        )
        assert cls.order_ticket.sale_order_id == orders[1]

    def _partner_then_ticket(self):
        self.start_tour(
            f"/odoo/action-crm_customer_360.action_customer_360_customers/{self.acme.id}",
            "crm_customer_360_partner_tour",
            login="tour_c360",
        )
        self.start_tour(
            f"/odoo/action-support_desk.action_support_ticket/{self.ticket.id}",
            "crm_customer_360_ticket_tour",
            login="tour_c360",
        )
        self.start_tour(
            f"/odoo/action-support_desk.action_support_ticket/{self.order_ticket.id}",
            "crm_customer_360_ticket_order_tour",
            login="tour_c360",
        )
        self.start_tour(
            "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
            "crm_customer_360_dashboard_tour",
            login="tour_c360",
        )


@tagged("post_install", "-at_install")
class TestCustomer360TourDesktop(Customer360TourMixin, HttpCase):
    def test_partner_then_ticket(self):
        self._partner_then_ticket()


@tagged("post_install", "-at_install")
class TestCustomer360TourPhone(Customer360TourMixin, HttpCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_partner_then_ticket(self):
        self._partner_then_ticket()
