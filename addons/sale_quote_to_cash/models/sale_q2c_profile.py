from odoo import api, fields, models

CHECK_MODES = [
    ("off", "Off"),
    ("block", "Block"),
    ("approval", "Ask a Manager"),
]


class SaleQ2cProfile(models.Model):
    """Which quote-to-cash steps run by themselves, for a company, a sales team or a customer."""

    _name = "sale.q2c.profile"
    _description = "Quote-to-Cash Workflow Profile"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to offer the profile to every company.",
    )

    credit_check = fields.Selection(
        CHECK_MODES,
        string="Credit Limit",
        default="approval",
        required=True,
        help="Open invoices plus orders not invoiced yet plus this order, against the customer's credit limit.",
    )
    stock_check = fields.Selection(
        CHECK_MODES,
        string="Availability",
        default="off",
        required=True,
        help="Storable products forecast in the warehouse at the committed date, "
        "orders of the same run served first come, first served.",
    )
    margin_check = fields.Selection(CHECK_MODES, string="Minimum Margin", default="off", required=True)
    min_margin = fields.Float(string="Minimum Margin (%)", default=15.0)
    discount_check = fields.Selection(CHECK_MODES, string="Maximum Discount", default="off", required=True)
    max_discount = fields.Float(string="Maximum Discount (%)", default=20.0)

    auto_confirm = fields.Boolean(
        string="Confirm",
        default=True,
        help="Confirm the order once the checks pass. Off: the order waits for a person to confirm it, "
        "then the following steps run.",
    )
    start_on_confirm = fields.Boolean(
        string="Follow Orders Confirmed by Hand",
        default=True,
        help="An order a salesperson confirms without recording an acceptance also goes through the following steps.",
    )
    auto_deliver = fields.Boolean(
        string="Validate Deliveries",
        help="Validate the reserved part of each delivery; what is missing goes to a backorder. "
        "Off: the warehouse validates deliveries, the chain goes on from there.",
    )
    auto_invoice = fields.Boolean(
        string="Create Invoices",
        default=True,
        help="Invoice what can be invoiced: products invoiced on order at confirmation, "
        "products invoiced on delivery at each validated delivery.",
    )
    auto_post = fields.Boolean(string="Post Invoices", default=True)
    auto_send = fields.Boolean(string="Send Invoices by Email", help="Send the posted invoice with its PDF.")
    auto_match = fields.Boolean(
        string="Match Payments",
        default=True,
        help="Reconcile the invoice with the customer's payment for this order: an online payment of the "
        "quotation, or a payment whose memo names the order or the invoice.",
    )
    mark_won = fields.Boolean(
        string="Mark Opportunity Won",
        default=True,
        help="Mark the linked opportunity won at confirmation, with the order's untaxed amount as its revenue.",
    )
    auto_lock = fields.Boolean(
        string="Lock When Done", default=True, help="Lock the order once delivered, invoiced and paid."
    )

    team_ids = fields.One2many("crm.team", "q2c_profile_id", string="Sales Teams")

    _min_margin_range = models.Constraint(
        "CHECK (min_margin > -100 AND min_margin < 100)",
        "The minimum margin must be between -100% and 100%.",
    )
    _max_discount_range = models.Constraint(
        "CHECK (max_discount >= 0 AND max_discount <= 100)",
        "The maximum discount must be between 0% and 100%.",
    )

    @api.model
    def _default_for(self, company):
        """The profile of a company: its own first, else one shared by every company."""
        company_profile = company.q2c_profile_id
        if company_profile and company_profile.active:
            return company_profile
        return self.search(["|", ("company_id", "=", company.id), ("company_id", "=", False)], limit=1)

    def _q2c_has_checks(self):
        self.ensure_one()
        return any(self[f"{check}_check"] != "off" for check in ("credit", "stock", "margin", "discount"))
