from odoo import api, fields, models
from odoo.exceptions import UserError


class Customer360Mixin(models.AbstractModel):
    """The customer summary shown on the partner, the opportunity and the ticket forms.

    A record names its customer with :meth:`_c360_partner`; the summary of every customer of
    the records shown is read at once, a grouped query per kind of document, under the
    reader's own access rights: its size never depends on how long the history is.
    """

    _name = "customer.360.mixin"
    _description = "Customer 360 Summary"

    # The company's own view of its customer (pipeline, amounts, health): internal users only,
    # the figures inside following each reader's access rights.
    c360_summary = fields.Json(
        string="Customer 360", compute="_compute_c360_summary", compute_sudo=False, groups="base.group_user"
    )

    def _c360_partner(self):
        """The commercial partner whose summary this record shows (empty: none)."""
        raise NotImplementedError

    def _c360_partner_fields(self):
        """The fields :meth:`_c360_partner` reads: changing one in a form refreshes the summary."""
        return ["partner_id"]

    def _c360_contexts(self):
        """``{record id: what it adds to its customer's summary}`` (e.g. the order a ticket is
        about), for all these records at once."""
        return {}

    @api.depends(lambda self: self._c360_partner_fields())
    @api.depends_context("uid", "company", "allowed_company_ids")
    def _compute_c360_summary(self):
        partners = self.env["res.partner"]
        for record in self:
            partners |= record._c360_partner()
        summaries = partners._c360_summaries()
        contexts = self._c360_contexts()
        for record in self:
            partner = record._c360_partner()
            summary = summaries.get(partner.id)
            record.c360_summary = dict(summary, **contexts.get(record.id, {})) if summary else False

    def action_c360_open(self, kind):
        """The list behind one figure of the summary."""
        self.ensure_one()
        partner = self._c360_partner()
        if not partner:
            raise UserError(self.env._("This record has no customer to show."))
        return partner._c360_action(kind)
