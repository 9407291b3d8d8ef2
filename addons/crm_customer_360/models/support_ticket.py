import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import html2plaintext

# What an order reference looks like in a subject or a message: letters, then digits
# ("S00042", "SO/2026/0042"). Candidates only: a reference counts when it names an order of
# the ticket's own customer in the ticket's company.
ORDER_REFERENCE = re.compile(r"[A-Z][A-Z0-9]*(?:[/-][A-Z0-9]+)*\d{3,}")
# The text is cut into words first and only short words are matched against the pattern, in
# the first characters of the subject and the message: a pasted log or a message of a
# megabyte costs what a short message costs.
WORD = re.compile(r"[\w/-]+")
SCAN_CHARS = 20_000  # of the subject and the message's text
SCAN_HTML_CHARS = 200_000  # of the message's HTML, before its text is extracted
MAX_REFERENCE_LENGTH = 40
MAX_REFERENCES = 20


def quoted_references(text):
    """The words of ``text`` that look like an order reference, in their order (a bounded scan)."""
    references = []
    for word in WORD.finditer(text, 0, SCAN_CHARS):
        candidate = word.group().strip("/-")
        if len(candidate) <= MAX_REFERENCE_LENGTH and ORDER_REFERENCE.fullmatch(candidate):
            references.append(candidate)
            if len(references) == MAX_REFERENCES:
                break
    return references


class SupportTicket(models.Model):
    _name = "support.ticket"
    _inherit = ["support.ticket", "customer.360.mixin"]

    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="The order this ticket is about: its deliveries, shipped or not, show on the ticket. "
        "Set by itself when the customer quotes one of its order references in the subject or the message.",
    )

    def _c360_partner(self):
        return self.commercial_partner_id

    def _c360_partner_fields(self):
        return ["commercial_partner_id", "sale_order_id"]

    def _c360_contexts(self):
        """A ticket about an order shows that order's deliveries, shipped ones included and late
        ones first, instead of all the customer's open deliveries: "where is my parcel?" is about
        one order. One search for all the tickets' orders."""
        orders = self.sale_order_id
        if not orders:
            return {}
        Picking = self.env["stock.picking"]
        can_read_pickings = Picking.has_access("read")
        rows = defaultdict(list)
        if can_read_pickings:
            pickings = Picking.search(
                [("sale_id", "in", orders.ids), ("picking_type_code", "=", "outgoing"), ("state", "!=", "cancel")],
                order="scheduled_date, id",
            )
            for row, picking in zip(self.env["res.partner"]._c360_delivery_rows(pickings), pickings, strict=True):
                rows[picking.sale_id.id].append(row)
        contexts = {}
        for ticket in self.filtered("sale_order_id"):
            # sudo: the order's reference only, which the ticket's own Sales Order field shows
            # to whoever reads the ticket (a support agent may have no sales rights).
            context = {"order_name": ticket.sale_order_id.sudo().display_name}
            if can_read_pickings:
                context["delivery_list"] = sorted(rows[ticket.sale_order_id.id], key=lambda row: not row["late"])
            contexts[ticket.id] = context
        return contexts

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        tickets.filtered(lambda ticket: not ticket.sale_order_id and ticket.commercial_partner_id)._c360_link_orders()
        return tickets

    def _c360_link_orders(self):
        """Link each ticket to the order of its customer it quotes, if any (one search for all)."""
        quoted = {
            ticket: quoted_references(
                f"{(ticket.name or '')[:SCAN_CHARS]}\n{html2plaintext((ticket.description or '')[:SCAN_HTML_CHARS])}"
            )
            for ticket in self
        }
        names = {name for references in quoted.values() for name in references}
        if not names:
            return
        # sudo: whoever writes in (the mail gateway, a portal customer, an agent without sales
        # rights) links the ticket only to an order of the ticket's own customer in the ticket's
        # company, by a reference the customer quoted; nothing of the order is shown to them.
        orders = (
            self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("name", "in", sorted(names)),
                    ("partner_id", "child_of", self.commercial_partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                    ("state", "!=", "cancel"),
                ]
            )
        )
        by_key = {
            (order.name, order.partner_id.commercial_partner_id.id, order.company_id.id): order for order in orders
        }
        for ticket in self:
            for name in quoted[ticket]:
                order = by_key.get((name, ticket.commercial_partner_id.id, ticket.company_id.id))
                if order:
                    ticket.sale_order_id = order.id
                    break
