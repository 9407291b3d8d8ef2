from odoo import fields, models

STEPS = [
    ("accept", "Acceptance"),
    ("check", "Checks"),
    ("approve", "Approval"),
    ("confirm", "Confirmation"),
    ("won", "Opportunity Won"),
    ("deliver", "Delivery"),
    ("invoice", "Invoice"),
    ("send", "Sending"),
    ("pay", "Payment Matching"),
    ("lock", "Lock"),
    ("retry", "Retry"),
]


class SaleQ2cLog(models.Model):
    """What happened to an order on its way from acceptance to cash, step by step."""

    _name = "sale.q2c.log"
    _description = "Quote-to-Cash Step"
    _order = "id desc"
    _log_access = False

    order_id = fields.Many2one("sale.order", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    step = fields.Selection(STEPS, required=True)
    result = fields.Selection(
        [("done", "Done"), ("blocked", "Blocked"), ("waiting", "Waiting"), ("failed", "Failed")],
        required=True,
    )
    message = fields.Text()
    user_id = fields.Many2one("res.users", string="By", default=lambda self: self.env.user)
