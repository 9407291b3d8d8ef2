from odoo import fields, models
from odoo.exceptions import UserError

from ..models.sale_order import ACCEPTANCE_CHANNELS

MANUAL_CHANNELS = [c for c in ACCEPTANCE_CHANNELS if c[0] in ("phone", "email", "paper")]


class SaleQ2cAcceptWizard(models.TransientModel):
    """A salesperson records that the customer said yes: who, when, how."""

    _name = "sale.q2c.accept.wizard"
    _description = "Record a Quotation's Acceptance"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade")
    accepted_by = fields.Char(required=True)
    accepted_on = fields.Datetime(required=True, default=fields.Datetime.now)
    channel = fields.Selection(MANUAL_CHANNELS, string="How", required=True, default="phone")
    document = fields.Binary(string="Signed Document")
    document_name = fields.Char()
    note = fields.Text()

    def action_accept(self):
        self.ensure_one()
        if self.channel == "paper" and not self.document:
            raise UserError(self.env._("Attach the signed paper to record an acceptance on paper."))
        if self.accepted_on > fields.Datetime.now():
            raise UserError(self.env._("An acceptance cannot be dated in the future."))
        attachment = None
        if self.document:
            attachment = self.env["ir.attachment"].create(
                {
                    "name": self.document_name or self.env._("Signed %(order)s", order=self.order_id.name),
                    "datas": self.document,
                    "res_model": "sale.order",
                    "res_id": self.order_id.id,
                }
            )
        self.order_id._q2c_record_acceptance(
            self.channel, self.accepted_by, accepted_on=self.accepted_on, attachment=attachment, note=self.note
        )
        return {"type": "ir.actions.act_window_close"}
