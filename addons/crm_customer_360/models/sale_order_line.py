from odoo import fields, models
from odoo.tools import format_date, formatLang


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    c360_next_receipt = fields.Char(
        string="Next Receipt",
        compute="_compute_c360_next_receipt",
        help="The next receipt of this product expected in the warehouse: quantity and date.",
    )

    def _compute_c360_next_receipt(self):
        storable = self.filtered(lambda line: line.product_id.is_storable)
        (self - storable).c360_next_receipt = False
        if not storable:
            return
        Move = self.env["stock.move"]
        if not Move.has_access("read"):
            storable.c360_next_receipt = False
            return
        # One grouped read for every line shown: the first day with a receipt, per product.
        rows = Move._read_group(
            [
                ("product_id", "in", storable.product_id.ids),
                ("picking_code", "=", "incoming"),
                ("state", "not in", ("draft", "done", "cancel")),
                ("location_dest_id.usage", "=", "internal"),
            ],
            ["product_id", "date:day"],
            ["product_qty:sum"],
            order="date:day",
        )
        first = {}
        for product, day, quantity in rows:
            first.setdefault(product.id, (day, quantity))
        for line in storable:
            receipt = first.get(line.product_id.id)
            if not receipt:
                line.c360_next_receipt = self.env._("none planned")
                continue
            day, quantity = receipt
            line.c360_next_receipt = self.env._(
                "%(quantity)s %(unit)s on %(date)s",
                quantity=formatLang(self.env, quantity, digits=0),
                unit=line.product_id.uom_id.name,
                date=format_date(self.env, day),
            )
