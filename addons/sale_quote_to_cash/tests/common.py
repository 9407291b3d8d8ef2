from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account_payment.tests.common import AccountPaymentCommon


class Q2cCommon(AccountPaymentCommon):
    """A company whose profile runs every step, products of every kind, two taxes.

    Unit tests build their own records: none relies on the demo data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The accounting test user also runs sales and the warehouse here.
        cls.env.user.group_ids |= cls.env.ref("sales_team.group_sale_manager") | cls.env.ref(
            "stock.group_stock_manager"
        )
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.env["sale.q2c.profile"].search([]).active = False
        cls.profile = cls.env["sale.q2c.profile"].create(
            {
                "name": "Everything",
                "company_id": cls.company.id,
                "credit_check": "off",
                "auto_confirm": True,
                "auto_deliver": True,
                "auto_invoice": True,
                "auto_post": True,
                "auto_send": False,
                "auto_match": True,
                "mark_won": True,
                "auto_lock": True,
            }
        )
        cls.company.q2c_profile_id = cls.profile
        cls.tax_10_included = cls.env["account.tax"].create(
            {
                "name": "Q2C 10% included",
                "amount": 10.0,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.tax_15 = cls.env["account.tax"].create(
            {
                "name": "Q2C 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Quincy Buyer",
                "email": "quincy@example.com",
                "invoice_sending_method": "email",
                "company_id": False,
            }
        )
        cls.storable_order = cls._q2c_product("Desk (on order)", 100.0, 60.0, storable=True, policy="order")
        cls.storable_delivery = cls._q2c_product("Chair (on delivery)", 50.0, 30.0, storable=True, policy="delivery")
        cls.consumable = cls._q2c_product("Cable", 10.0, 4.0, storable=False, policy="order")
        cls.service = cls._q2c_product("Installation", 80.0, 0.0, kind="service", policy="order")
        for product in (cls.storable_order, cls.storable_delivery):
            cls._q2c_stock(product, 100)
        cls.salesman = new_test_user(
            cls.env, "q2c_salesman", groups="sales_team.group_sale_salesman", company_id=cls.company.id
        )
        cls.manager = new_test_user(
            cls.env,
            "q2c_manager",
            groups="sales_team.group_sale_manager,account.group_account_invoice",
            company_id=cls.company.id,
        )

    @classmethod
    def _q2c_product(cls, name, price, cost, storable=False, policy="order", kind="consu"):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": kind,
                "is_storable": storable,
                "invoice_policy": policy,
                "list_price": price,
                "standard_price": cost,
                "taxes_id": [Command.set(cls.company_data["default_tax_sale"].ids)],
            }
        )

    @classmethod
    def _q2c_stock(cls, product, quantity):
        cls.env["stock.quant"].with_context(inventory_mode=True).create(
            {"product_id": product.id, "location_id": cls.stock_location.id, "inventory_quantity": quantity}
        ).action_apply_inventory()

    def quote(self, lines, partner=None, **values):
        """A quotation; ``lines`` are ``(product, quantity)`` or ``(product, quantity, {line values})``."""
        order_lines = []
        for line in lines:
            product, quantity, extra = (*line, {})[:3]
            order_lines.append(Command.create({"product_id": product.id, "product_uom_qty": quantity, **extra}))
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": order_lines,
                "company_id": self.company.id,
                **values,
            }
        )

    def accept(self, orders, channel="phone"):
        orders._q2c_record_acceptance(channel, "Quincy Buyer")

    def run_chain(self):
        return self.env["sale.order"]._q2c_run(commit=False)

    def pay(self, order, amount=None, memo=None, currency=None):
        """A customer payment registered without its invoice (a bank transfer naming the order)."""
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": order.partner_id.commercial_partner_id.id,
                "amount": order.amount_total if amount is None else amount,
                "currency_id": (currency or order.currency_id).id,
                "journal_id": self.company_data["default_journal_bank"].id,
                "memo": memo or order.name,
                "date": fields.Date.today(),
            }
        )
        payment.action_post()
        return payment

    @staticmethod
    def last_log(order):
        return order.q2c_log_ids.sorted("id")[-1:]

    def customer_invoices(self, order):
        return order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")

    @staticmethod
    def journal_signature(moves):
        """What an accountant compares: accounts, debits, credits, taxes, currencies, per move."""
        return sorted(
            (
                line.account_id.code,
                round(line.debit, 2),
                round(line.credit, 2),
                round(line.amount_currency, 2),
                line.currency_id.name,
                tuple(sorted(line.tax_ids.mapped("name"))),
                line.display_type,
            )
            for line in moves.line_ids
        )
