from datetime import timedelta

from odoo import Command, fields

from odoo.addons.sale_quote_to_cash.tests.common import Q2cCommon


class Customer360Common(Q2cCommon):
    """A customer company with a contact, and the documents its summary adds up (no taxes, so
    that every figure can be worked out by hand)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test user also runs the support desk here.
        cls.env.user.group_ids |= cls.env.ref("support_desk.group_support_manager")
        cls.acme = cls.env["res.partner"].create({"name": "Acme", "is_company": True, "email": "buy@acme.example"})
        cls.ann = cls.env["res.partner"].create(
            {"name": "Ann Acme", "parent_id": cls.acme.id, "email": "ann@acme.example"}
        )
        cls.other = cls.env["res.partner"].create({"name": "Other Co", "is_company": True})
        cls.widget = cls._q2c_product("Widget", 100.0, 40.0, storable=True, policy="order")
        cls.widget.taxes_id = False
        cls._q2c_stock(cls.widget, 500)
        cls.support_team = cls.env["support.team"].create({"name": "Help", "company_id": cls.company.id})

    @classmethod
    def make_opportunity(cls, partner, revenue, probability, **values):
        return cls.env["crm.lead"].create(
            {
                "name": f"Deal {revenue}",
                "type": "opportunity",
                "partner_id": partner.id,
                "expected_revenue": revenue,
                "probability": probability,
                **values,
            }
        )

    @classmethod
    def make_order(cls, partner, quantity, confirm=True, company=None):
        company = company or cls.company
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [Command.create({"product_id": cls.widget.id, "product_uom_qty": quantity})],
                }
            )
        )
        if confirm:
            order.action_confirm()
        return order

    @classmethod
    def make_invoice(cls, partner, amount, due_in_days, post=True, company=None):
        today = fields.Date.context_today(cls.env.user)
        move = (
            cls.env["account.move"]
            .with_company(company or cls.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=30),
                    "invoice_date_due": today + timedelta(days=due_in_days),
                    "invoice_line_ids": [
                        Command.create({"name": "Work", "quantity": 1, "price_unit": amount, "tax_ids": False})
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def make_ticket(cls, partner, **values):
        return cls.env["support.ticket"].create(
            {"name": "Where is my parcel?", "partner_id": partner.id, "team_id": cls.support_team.id, **values}
        )

    def summary(self, record):
        record.invalidate_recordset(["c360_summary"])
        return record.c360_summary
