from markupsafe import Markup, escape

from odoo import fields, models

from odoo.addons.crm_lead_scoring.engine import model as learning

from .crm_lead import ERP_COLUMNS


class CrmLeadScoringModel(models.Model):
    _inherit = "crm.lead.scoring.model"

    auc_with_erp = fields.Float(
        string="AUC with the ERP Facts",
        digits=(5, 3),
        readonly=True,
        help="The training with what the ERP knows of the leads' companies, on the same holdout.",
    )
    erp_facts_used = fields.Boolean(
        string="Uses the ERP Facts",
        readonly=True,
        default=True,
        help="Off when the model without the ERP facts did better on the same holdout, and was kept.",
    )
    auc_without_erp = fields.Float(
        string="AUC without the ERP Facts",
        digits=(5, 3),
        readonly=True,
        help="The same training on the same leads without what the ERP knows of their companies "
        "(orders, invoices, payments, tickets): what those facts add to the model.",
    )

    def _learn(self, columns, won, seed):
        """Learn as usual, then once more without the ERP facts on the same leads and folds
        (same seed), so that the report shows what the facts add; keep the better of the two."""
        payload, quality, measured, values = super()._learn(columns, won, seed)
        without = [column for column in columns if column.key not in ERP_COLUMNS]
        if len(without) == len(columns):
            return payload, quality, measured, values
        try:
            payload_without, quality_without, measured_without, _values = super()._learn(without, won, seed)
        except learning.NotEnoughData:
            return payload, quality, measured, values
        values = dict(values, auc_with_erp=quality["auc"] or 0.0, auc_without_erp=quality_without["auc"] or 0.0)
        if (quality_without["auc"] or 0.0) > (quality["auc"] or 0.0):
            # On this history the ERP facts did not help: keep the model without them.
            return payload_without, quality_without, measured_without, dict(values, erp_facts_used=False)
        return payload, quality, measured, values

    def _render_report(self):
        report = super()._render_report()
        if not self.auc_without_erp:
            return report
        line = self.env._(
            "What the ERP knows of the companies (orders, invoices, payments, tickets) takes the AUC "
            "from %(without).3f without it to %(with_).3f with it (%(gain)+.3f).",
            without=self.auc_without_erp,
            with_=self.auc_with_erp,
            gain=self.auc_with_erp - self.auc_without_erp,
        )
        if not self.erp_facts_used:
            line += " " + self.env._("The model without them did better on the holdout: it is the one kept.")
        return Markup("<p class='o_c360_erp_gain'>%s</p>") % escape(line) + report
