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

    def _train_scope(self, company, team, closed_ids, seed=0):
        """Train as usual, then once more without the ERP facts on the same leads and holdout
        (same seed), so that the report shows what the facts add."""
        record = super()._train_scope(company, team, closed_ids, seed=seed)
        if not record:
            return record
        columns, _ids, won = self.env["crm.lead"].with_company(company)._scoring_training_data(closed_ids)
        without = [column for column in columns if column.key not in ERP_COLUMNS]
        try:
            payload, quality, _holdout = learning.train(without, won, seed=seed)
        except learning.NotEnoughData:
            return record
        values = {"auc_with_erp": record.auc, "auc_without_erp": quality["auc"] or 0.0}
        if (quality["auc"] or 0.0) > record.auc:
            # On this history the ERP facts did not help on the holdout: keep the model without them.
            values.update(
                erp_facts_used=False,
                payload=payload,
                auc=quality["auc"] or 0.0,
                log_loss=quality["log_loss"],
                brier=quality["brier"],
                ece=quality["ece"] or 0.0,
                calibration=quality["calibration"],
                lift=quality["lift"],
                feature_count=len(payload["coef"]),
            )
        record.write(values)
        return record

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
