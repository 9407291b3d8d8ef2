import json
import logging
import time

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.suite_batch_job import batch

from ..engine import model as learning

_logger = logging.getLogger(__name__)

# the training pass's progress (the scopes trained, the new models in use), kept between calls
TRAIN_STATE = "crm_lead_scoring.train"
# the last unit of a training pass: clear its state, hand the new models to the rescoring
CLOSE_PASS = "close"

# A new model must not be worse than the one in use by more than this AUC. The one in use
# has seen part of the new holdout when it learned, which flatters it by about this much.
AUC_TOLERANCE = 0.02


def _scope_key(company, team=None):
    """A scope of the training, as the training pass records it."""
    return f"{company.id}-{team.id if team else 0}"


def _rows(value):
    """The rows of a stored table: a list of dicts, whatever else was stored."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _cell(row, key, template="{:.0f}", factor=1):
    """One cell of a report table: a number in ``template``, anything else as escaped text."""
    value = row.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return template.format(float(value) * factor)
    return escape("" if value is None else str(value))


def _points(value):
    """The ``[[x, y], ...]`` pairs of a stored shape, numbers only."""
    points = []
    for pair in value if isinstance(value, list) else []:
        if (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
        ):
            points.append((float(pair[0]), float(pair[1])))
    return points


def _fact_detail(fact, width=160, height=36):
    """A number's learned shape as an inline SVG line, or a category's values with their parts."""
    points = _points(fact.get("shape"))
    if len(points) >= 2:
        ys = [y for _x, y in points]
        low, high = min(ys + [0.0]), max(ys + [0.0])
        span = (high - low) or 1.0
        step = width / (len(points) - 1)
        coords = " ".join(
            f"{i * step:.1f},{height - 2 - (y - low) / span * (height - 4):.1f}" for i, (_x, y) in enumerate(points)
        )
        zero = height - 2 - (0.0 - low) / span * (height - 4)
        first, last = points[0][0], points[-1][0]
        return Markup(
            "<svg width='%s' height='%s' class='o_scoring_shape' role='img'><line x1='0' x2='%s' y1='%s' y2='%s' "
            "stroke='#adb5bd' stroke-dasharray='2,2'/><polyline fill='none' stroke='#017e84' stroke-width='2' "
            "points='%s'/></svg> <small class='text-muted'>%s … %s</small>"
        ) % (width, height, width, f"{zero:.1f}", f"{zero:.1f}", coords, f"{first:g}", f"{last:g}")
    levels = [
        pair
        for pair in (fact.get("levels") if isinstance(fact.get("levels"), list) else [])
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], (int, float))
    ]
    if levels:
        return Markup(", ").join(
            Markup("%s <small>(%s)</small>") % (escape(str(label)), f"{part:+.2f}") for label, part in levels
        )
    return ""


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
        [
            ("active", "In use"),
            ("retired", "Replaced"),
            ("rejected", "Rejected (worse than the one in use)"),
            ("company", "Not used (the company model does better on this team)"),
        ],
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
    company_auc = fields.Float(
        string="AUC of the Company Model",
        digits=(5, 3),
        help="A team's model: the company model measured on the same leads of the team. The team "
        "model is used only when it does better; otherwise the team's leads are scored by the company model.",
    )
    structure = fields.Char(
        string="Learned Trees",
        compute="_compute_report",
        help="How many trees the model adds up, and how many facts each tree combines.",
    )
    model_size = fields.Integer(string="Stored Size (KB)", help="The size of the stored model, as text.")
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
            payload = model.payload or {}
            specs = payload.get("featurizer", {}).get("specs", [])
            model.features_summary = ", ".join(spec["label"] for spec in specs)
            model.structure = model._structure_words(payload)
            model.report_html = model._render_report()

    def _structure_words(self, payload):
        params = payload.get("params") or {}
        if payload.get("kind") == learning.ADDITIVE:
            return self.env._("An additive model: a curve along each number, a weight per value of the others")
        if payload.get("kind") != learning.KIND or not params:
            return self.env._("A logistic regression (one weight per fact)") if payload.get("coef") else False
        depth = params.get("max_depth")
        if depth == 1:
            return self.env._("%(count)s trees of one fact each (an additive model)", count=payload.get("rounds"))
        if depth and depth > 0:
            return self.env._("%(count)s trees of up to %(depth)s facts each", count=payload.get("rounds"), depth=depth)
        return self.env._(
            "%(count)s trees of up to %(leaves)s leaves each",
            count=payload.get("rounds"),
            leaves=params.get("num_leaves"),
        )

    def _render_report(self):
        """Calibration and lift tables a sales manager reads.

        The cells come from stored JSON: numbers are formatted as numbers, anything else is
        escaped as text, so that a value written there never becomes markup.
        """
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
        row = Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
        rows = Markup("").join(
            row % (_cell(b, "predicted", "{:.0f} %", 100), _cell(b, "observed", "{:.0f} %", 100), _cell(b, "count"))
            for b in _rows(self.calibration)
        )
        lift_rows = Markup("").join(
            row % (_cell(d, "decile"), _cell(d, "win_rate", "{:.1f} %", 100), _cell(d, "lift", "×{:.2f}"))
            for d in _rows(self.lift)
        )
        table = Markup(
            "<h5>%s</h5><table class='table table-sm'><thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
            "<tbody>%s</tbody></table>"
        )
        calibration = table % (words["calibration"], words["predicted"], words["observed"], words["leads"], rows)
        lift = table % (words["lift"], words["tenth"], words["win_rate"], words["lift_col"], lift_rows)
        return self._render_facts() + calibration + lift

    def _render_facts(self):
        """Each fact's share of the explanations and, for a number, the shape the model learned
        (a small line: the part of the log-odds along the fact's values; up is more wins)."""
        report = (self.payload or {}).get("report") or {}
        facts = [fact for fact in _rows(report.get("facts")) if isinstance(fact.get("share"), (int, float))]
        if not facts:
            return Markup("")
        row = Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
        body = Markup("").join(
            row % (escape(str(fact.get("label") or "")), _cell(fact, "share", "{:.0f} %", 100), _fact_detail(fact))
            for fact in facts
            if fact["share"] >= 0.005
        )
        return Markup(
            "<h5>%s</h5><table class='table table-sm o_scoring_facts'><thead><tr><th>%s</th><th>%s</th>"
            "<th>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (
            self.env._("What the scores are made of"),
            self.env._("Fact"),
            self.env._("Share"),
            self.env._("What the model learned (up: wins more)"),
            body,
        )

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------

    @api.model
    def _cron_train(self, commit=True):
        """Weekly: retrain every scope with enough history, one scope per claim; scores follow.

        The units of the job are the scopes (a company, or one of its teams) with enough won and
        lost leads, then one last unit that closes the pass. The scopes trained so far and how
        many new models went into use are kept in a :class:`~odoo.addons.suite_batch_job.batch.RunState`,
        so that each call resumes with the next scope and no scope is trained twice in a pass.
        Training one scope may take longer than a cron run's budget: the job is ``heavy`` (a call
        made after the run's budget is spent trains nothing, Odoo starts a new run).

        Closing the pass clears the state and, when a new model went into use, starts the
        rescoring pass with the reason ``model`` and wakes its job: the scores follow within
        minutes, through the resumable rescoring job, not inside the training's call.

        :param commit: ``False`` inside a caller's transaction (tests): the whole pass, nothing committed
        :return: how many units (scopes, and the closing one) were handled
        """
        # sudo: the training job (private: no RPC) learns in every company that has closed leads,
        # whichever its user may read; only models and scores come out of it
        groups = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("won_status", "in", ("won", "lost")), ("company_id", "!=", False)], ["company_id"], ["__count"]
            )
        )
        scopes = {}
        for company, count in sorted(groups, key=lambda group: group[0].id):
            if count >= company.scoring_min_closed_leads:
                scopes[_scope_key(company)] = (company, self.env["crm.team"])
            for team in self._teams_with_history(company).sorted("id"):
                scopes[_scope_key(company, team)] = (company, team)
        state = batch.RunState(self.env, TRAIN_STATE)
        run = {"over": False}

        def todo():
            value = state.value
            trained = set(value.get("trained") or ())
            keys = [key for key in scopes if key not in trained]
            # a pass under way (or about to start) ends with the unit that closes it
            return [*keys, CLOSE_PASS] if keys or value else []

        def claim(limit):
            return [] if run["over"] else todo()[:limit]

        def process(keys):
            value = state.value
            trained, models = list(value.get("trained") or ()), int(value.get("models") or 0)
            for key in keys:
                if key == CLOSE_PASS:
                    state.clear()
                    if models:
                        self.env["crm.lead"]._scoring_start_rescoring(reason="model")
                    run["closing"] = True
                    continue
                company, team = scopes[key]
                models += self._train_scope_isolated(company, team).state == "active"
                trained.append(key)
                state.save(trained=trained, models=models)
            # a write conflict is this batch's: raised here, before the pass moves on in memory
            self.env.flush_all()
            run["over"] = run.pop("closing", False)

        def left():
            return 0 if run["over"] else len(todo())

        return batch.run(
            self.env,
            "Lead scoring: training",
            claim,
            process,
            left,
            batch_size=1,
            commit=commit,
            heavy=True,
        )

    def _train_scope_isolated(self, company, team):
        """Train one scope of the job; a failure is logged and leaves the scope for the next pass.

        The other scopes are still trained: one scope whose data breaks the learning must not
        stop the job (it would be claimed again and again).
        """
        closed = self.env["crm.lead"]._scoring_closed_lead_ids(company, team)
        if len(closed) < company.scoring_min_closed_leads:
            return self.browse()
        try:
            with self.env.cr.savepoint():
                return self._train_scope(company, team, closed)
        except batch.CONFLICTS:
            raise
        except Exception:
            _logger.exception("Lead scoring: training failed for %s / %s", company.name, team.name or "-")
            return self.browse()

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
        """Learn a model for one scope; keep the one in use if the new one is worse.

        A team's model is used only when it does better on the team's leads than the company
        model: both measured on leads each scored by a model that did not learn from it (out of fold, or a holdout), the
        company's when it was trained (:meth:`_team_aucs`). Otherwise the team's leads are scored
        by the company model, and a team model in use is retired.
        """
        Lead = self.env["crm.lead"].with_company(company)
        started = time.perf_counter()
        columns, ids, won = Lead._scoring_training_data(closed_ids)
        try:
            payload, quality, (measured_idx, measured_p), values = self._learn(columns, won, seed)
        except learning.NotEnoughData as error:
            _logger.info("Lead scoring: no model for %s / %s: %s", company.name, team.name or "-", error)
            return self.browse()
        if not team:
            payload["team_auc"] = self._team_aucs(ids, won, measured_idx, measured_p)
        current = self.search(
            [("company_id", "=", company.id), ("team_id", "=", team.id or False), ("state", "=", "active")], limit=1
        )
        previous_auc = False
        if current:
            # judge the model in use on the very leads the new one was measured on
            measured_columns = [learning.subset(column, measured_idx) for column in columns]
            old_p = learning.Predictor(current.payload).predict(measured_columns)
            previous_auc = learning.metrics.roc_auc([won[i] for i in measured_idx], old_p)
        worse = (
            previous_auc is not False
            and previous_auc is not None
            and (quality["auc"] is None or quality["auc"] < previous_auc - AUC_TOLERANCE)
        )
        company_auc = self._company_auc_on(company, team, ids, columns, won) if team else None
        state = "active"
        retire = bool(current)
        if company_auc is not None and (quality["auc"] or 0.0) <= company_auc:
            state = "company"
            # the team model in use goes too, unless its measure (flattered: it learned from these
            # leads) still beats the company model's
            retire = previous_auc is None or previous_auc is False or previous_auc <= company_auc
        elif worse:
            state, retire = "rejected", False
        record = self.create(
            {
                "company_id": company.id,
                "team_id": team.id or False,
                "state": state,
                "training_seconds": time.perf_counter() - started,
                "won_count": payload["won"],
                "lost_count": payload["lost"],
                "train_count": quality["train_count"],
                "holdout_count": quality["holdout_count"],
                "feature_count": learning.feature_count(payload),
                "auc": quality["auc"] or 0.0,
                "log_loss": quality["log_loss"],
                "brier": quality["brier"],
                "ece": quality["ece"] or 0.0,
                "previous_auc": previous_auc or 0.0,
                "company_auc": company_auc or 0.0,
                "calibration": quality["calibration"],
                "lift": quality["lift"],
                "payload": payload,
                "model_size": len(json.dumps(payload)) // 1024,
                **values,
            }
        )
        if retire:
            # a better model, or a team that the company model serves better: the one in use goes
            current.state = "retired"
        _logger.info(
            "Lead scoring: %s model for %s / %s (AUC %.3f, previous %s, company model on the team %s)",
            record.state,
            company.name,
            team.name or "-",
            record.auc,
            previous_auc,
            company_auc,
        )
        return record

    def _learn(self, columns, won, seed):
        """The learning of one scope: ``(payload, quality, (indexes, probabilities), values)``.

        A hook: an addon that adds facts may learn with and without them and keep the better
        model; ``values`` are written on the model record.
        """
        payload, quality, measured = learning.train(columns, won, seed=seed)
        return payload, quality, measured, {}

    def _team_aucs(self, ids, won, measured_idx, measured_p):
        """``{team id: AUC}`` of a company model on each team's measured leads (each by a model
        that did not learn from it), for the teams' own models to beat (stored with the company
        model). ``measured_p[k]`` is the probability of the lead at ``measured_idx[k]`` in ``ids``."""
        teams = self._lead_teams(ids)
        by_team = {}
        for k, position in enumerate(measured_idx):
            team_id = teams.get(ids[position])
            if team_id:
                by_team.setdefault(team_id, []).append(k)
        aucs = {}
        for team_id, ks in by_team.items():
            auc = learning.metrics.roc_auc([won[measured_idx[k]] for k in ks], measured_p[ks])
            if auc is not None:
                aucs[str(team_id)] = auc
        return aucs

    def _lead_teams(self, ids):
        """``{lead id: team id}`` of the leads the training read (SQL: every one of them, as the training)."""
        self.env.cr.execute(
            SQL("SELECT id, team_id FROM crm_lead WHERE id = ANY(%s) AND team_id IS NOT NULL", list(ids))
        )
        return dict(self.env.cr.fetchall())

    def _company_auc_on(self, company, team, ids, columns, won):
        """The AUC of the company model in use on a team's leads; ``None`` without one.

        Its own out-of-fold measure on the team when it was trained; a model stored before
        that is measured now (it has learned from these leads: its AUC is flattered, which only
        makes a team model harder to prefer).
        """
        company_model = self.search(
            [("company_id", "=", company.id), ("team_id", "=", False), ("state", "=", "active")], limit=1
        )
        if not company_model:
            return None
        measured = (company_model.payload or {}).get("team_auc")
        if isinstance(measured, dict) and str(team.id) in measured:
            return float(measured[str(team.id)])
        probabilities = learning.Predictor(company_model.payload).predict(columns)
        return learning.metrics.roc_auc(won, probabilities)

    def action_train_now(self):
        """Ask the training job to run now, off the manager's request.

        Training and rescoring every open lead take minutes and commit batch by batch: they run
        in the job (which retrains every company with enough history), never half-done inside
        the button's request. The new models show in this list, their report says how they did.
        """
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(self.env._("Only sales managers can retrain lead scoring."))
        companies = self.company_id or self.env.company
        if not any(self._has_enough_history(company) for company in companies):
            raise UserError(
                self.env._(
                    "Not enough closed leads to learn from yet: each company or team needs at least "
                    "%(count)s won and lost leads (see the CRM settings).",
                    count=min(companies.mapped("scoring_min_closed_leads")),
                )
            )
        cron = self.env.ref("crm_lead_scoring.ir_cron_scoring_train", raise_if_not_found=False)
        if not cron or not cron._trigger():
            raise UserError(
                self.env._("The lead scoring training job is switched off: ask an administrator to turn it on.")
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Training started"),
                "message": self.env._(
                    "The models are trained in the background and the open leads rescored; the new models "
                    "show in this list in a few minutes, each with its report."
                ),
                "sticky": False,
            },
        }

    def _has_enough_history(self, company):
        """Whether the company, or one of its teams, has enough closed leads to learn from."""
        # sudo: counting the company's closed leads, whoever may read them, as the training does
        count = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search_count([("company_id", "=", company.id), ("won_status", "in", ("won", "lost"))])
        )
        return count >= company.scoring_min_closed_leads
