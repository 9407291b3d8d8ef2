import logging
import time

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine import model as learning

_logger = logging.getLogger(__name__)

# A new model must not be worse than the one in use by more than this AUC. The one in use
# has seen part of the new holdout when it learned, which flatters it by about this much.
AUC_TOLERANCE = 0.02


class CrmLeadScoringModel(models.Model):
    """A model learned from a scope's won and lost leads, with its holdout quality."""

    _name = "crm.lead.scoring.model"
    _description = "Lead Scoring Model"
    _order = "trained_on desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", check_company=True, index=True, help="Empty: the model of the whole company."
    )
    state = fields.Selection(
        [("active", "In use"), ("retired", "Replaced"), ("rejected", "Rejected (worse than the one in use)")],
        required=True,
        default="active",
        index=True,
    )
    trained_on = fields.Datetime(required=True, default=fields.Datetime.now)
    training_seconds = fields.Float(digits=(12, 2))
    won_count = fields.Integer(string="Won Leads")
    lost_count = fields.Integer(string="Lost Leads")
    train_count = fields.Integer(string="Learned From")
    holdout_count = fields.Integer(string="Measured On")
    feature_count = fields.Integer(string="Features")
    auc = fields.Float(
        string="ROC AUC",
        digits=(5, 3),
        aggregator="avg",
        help="Chance that a won lead scores above a lost one (0.5 = coin toss, 1 = perfect).",
    )
    log_loss = fields.Float(digits=(6, 4), aggregator="avg", help="Lower is better; penalises confident mistakes.")
    brier = fields.Float(
        string="Brier Score",
        digits=(6, 4),
        aggregator="avg",
        help="Mean squared error of the probabilities; lower is better.",
    )
    ece = fields.Float(
        string="Calibration Error",
        digits=(6, 4),
        aggregator="avg",
        help="Average gap between predicted and observed win rates (0 = perfectly calibrated).",
    )
    previous_auc = fields.Float(
        string="AUC of the Model in Use",
        digits=(5, 3),
        help="The model in use before, measured on the same holdout leads.",
    )
    calibration = fields.Json(help="Predicted against observed win rate per probability bin.")
    lift = fields.Json(help="Win rate per tenth of the holdout leads, best scores first.")
    payload = fields.Json(help="The learned numbers: encodings, weights, averages.")
    features_summary = fields.Text(string="Facts Learned From", compute="_compute_report")
    report_html = fields.Html(string="Report", compute="_compute_report", sanitize=False)

    @api.depends("company_id", "team_id", "trained_on")
    def _compute_name(self):
        for model in self:
            scope = model.team_id.name or model.company_id.name or ""
            model.name = f"{scope} – {fields.Datetime.to_string(model.trained_on)[:16]}" if model.trained_on else scope

    @api.depends("payload", "calibration", "lift")
    def _compute_report(self):
        for model in self:
            specs = (model.payload or {}).get("featurizer", {}).get("specs", [])
            model.features_summary = ", ".join(spec["label"] for spec in specs)
            model.report_html = model._render_report()

    def _render_report(self):
        """Calibration and lift tables a sales manager reads."""
        words = {
            "calibration": self.env._("Are the probabilities right?"),
            "predicted": self.env._("Predicted"),
            "observed": self.env._("Observed"),
            "leads": self.env._("Leads"),
            "lift": self.env._("Do the best scores win more?"),
            "tenth": self.env._("Tenth (best first)"),
            "win_rate": self.env._("Win rate"),
            "lift_col": self.env._("Lift"),
        }
        words = {key: escape(value) for key, value in words.items()}
        rows = "".join(
            f"<tr><td>{b['predicted'] * 100:.0f} %</td><td>{b['observed'] * 100:.0f} %</td><td>{b['count']}</td></tr>"
            for b in self.calibration or []
        )
        lift_rows = "".join(
            f"<tr><td>{d['decile']}</td><td>{d['win_rate'] * 100:.1f} %</td><td>×{d['lift']:.2f}</td></tr>"
            for d in self.lift or []
        )
        return Markup(
            f"<h5>{words['calibration']}</h5>"
            f"<table class='table table-sm'><thead><tr><th>{words['predicted']}</th><th>{words['observed']}</th>"
            f"<th>{words['leads']}</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<h5>{words['lift']}</h5>"
            f"<table class='table table-sm'><thead><tr><th>{words['tenth']}</th><th>{words['win_rate']}</th>"
            f"<th>{words['lift_col']}</th></tr></thead><tbody>{lift_rows}</tbody></table>"
        )

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------

    @api.model
    def _cron_train(self):
        """Retrain every scope with enough history; scores follow."""
        groups = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([("won_status", "in", ("won", "lost"))], ["company_id"])
        )
        companies = self.env["res.company"].browse(company.id for (company,) in groups if company)
        trained = self.browse()
        for company in companies:
            trained |= self._train_company(company)
        if trained:
            self.env["crm.lead"]._scoring_rescore_all(trained.company_id, reason="model")

    def _train_company(self, company, seed=0):
        Lead = self.env["crm.lead"].with_company(company)
        trained = self.browse()
        scopes = [self.env["crm.team"]] + list(self._teams_with_history(company))
        for team in scopes:
            closed = Lead._scoring_closed_lead_ids(company, team)
            if len(closed) < company.scoring_min_closed_leads:
                continue
            trained |= self._train_scope(company, team, closed, seed=seed)
        return trained

    def _teams_with_history(self, company):
        self.env.cr.execute(
            SQL(
                """SELECT team_id FROM crm_lead
                    WHERE company_id = %s AND team_id IS NOT NULL AND won_status IN ('won', 'lost')
                 GROUP BY team_id HAVING count(*) >= %s""",
                company.id,
                company.scoring_min_closed_leads,
            )
        )
        return self.env["crm.team"].browse(row[0] for row in self.env.cr.fetchall())

    def _train_scope(self, company, team, closed_ids, seed=0):
        """Learn a model for one scope; keep the one in use if the new one is worse."""
        Lead = self.env["crm.lead"].with_company(company)
        started = time.perf_counter()
        columns, ids, won = Lead._scoring_training_data(closed_ids)
        try:
            payload, quality, (test_idx, _holdout_p) = learning.train(columns, won, seed=seed)
        except learning.NotEnoughData as error:
            _logger.info("Lead scoring: no model for %s / %s: %s", company.name, team.name or "-", error)
            return self.browse()
        current = self.search(
            [("company_id", "=", company.id), ("team_id", "=", team.id or False), ("state", "=", "active")], limit=1
        )
        previous_auc = False
        if current:
            # judge the model in use on the very leads the new one was measured on
            holdout_columns = [learning.subset(column, test_idx) for column in columns]
            old_p = learning.Predictor(current.payload).predict(holdout_columns)
            previous_auc = learning.metrics.roc_auc([won[i] for i in test_idx], old_p)
        worse = (
            previous_auc is not False
            and previous_auc is not None
            and (quality["auc"] is None or quality["auc"] < previous_auc - AUC_TOLERANCE)
        )
        record = self.create(
            {
                "company_id": company.id,
                "team_id": team.id or False,
                "state": "rejected" if worse else "active",
                "training_seconds": time.perf_counter() - started,
                "won_count": payload["won"],
                "lost_count": payload["lost"],
                "train_count": quality["train_count"],
                "holdout_count": quality["holdout_count"],
                "feature_count": len(payload["coef"]),
                "auc": quality["auc"] or 0.0,
                "log_loss": quality["log_loss"],
                "brier": quality["brier"],
                "ece": quality["ece"] or 0.0,
                "previous_auc": previous_auc or 0.0,
                "calibration": quality["calibration"],
                "lift": quality["lift"],
                "payload": payload,
            }
        )
        if not worse:
            current.state = "retired"
        _logger.info(
            "Lead scoring: %s model for %s / %s (AUC %.3f, previous %s)",
            record.state,
            company.name,
            team.name or "-",
            record.auc,
            previous_auc,
        )
        return record

    def action_train_now(self):
        """Retrain the scopes of the selected models (or the current company) and rescore."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(self.env._("Only sales managers can retrain lead scoring."))
        companies = self.company_id or self.env.company
        trained = self.browse()
        for company in companies:
            trained |= self._train_company(company)
        if not trained:
            raise UserError(
                self.env._(
                    "Not enough closed leads to learn from yet: each company or team needs at least "
                    "%(count)s won and lost leads (see the CRM settings).",
                    count=min(companies.mapped("scoring_min_closed_leads")),
                )
            )
        self.env["crm.lead"]._scoring_rescore_all(companies, reason="model")
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "list,form",
            "domain": [("id", "in", trained.ids)],
            "name": self.env._("New Models"),
        }
