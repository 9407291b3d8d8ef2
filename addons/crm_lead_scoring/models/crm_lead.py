import json
import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL, ormcache, split_every

from odoo.addons.suite_batch_job import batch

from ..engine import blend, features, rules
from ..engine import model as learning

_logger = logging.getLogger(__name__)

GRADES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
SCORE_SOURCES = [("rules", "Rules only"), ("blend", "Rules and learned model"), ("model", "Learned model")]
DEFAULT_FIELDS = ("source_id", "medium_id", "campaign_id", "country_id", "tag_ids", "expected_revenue", "priority")
# Fields that say how the lead ended: learning from them would be cheating.
FORBIDDEN_FIELDS = {
    "stage_id",
    "probability",
    "automated_probability",
    "won_status",
    "active",
    "lost_reason_id",
    "date_closed",
    "score",
    "score_grade",
    "score_model_id",
    "date_conversion",
    "is_won",
}
BASE_TRIGGER_FIELDS = {"email_from", "phone", "partner_id", "partner_name", "team_id", "company_id", "user_id"}
FREE_MAIL_DOMAINS = frozenset(
    "gmail.com googlemail.com yahoo.com yahoo.fr hotmail.com hotmail.fr outlook.com outlook.fr live.com "
    "msn.com aol.com icloud.com me.com gmx.de gmx.net web.de orange.fr free.fr laposte.net sfr.fr "
    "wanadoo.fr proton.me protonmail.com mail.com yandex.com".split()
)
BATCH = 2000
# leads per batch of the scoring jobs (about a second of work: 5,000 leads scored for the first
# time take 1.5 s on two cores, rescored 0.3 s); the system parameter overrides it
JOB_BATCH = 5000
BATCH_SIZE_PARAM = "crm_lead_scoring.batch_size"
# the rescoring pass's position and reason, kept between the calls of its job
RESCORE_STATE = "crm_lead_scoring.rescore"
RESCORE_REASONS = ("rescore", "model")
# the scoring job's wake-up, once per transaction, in the cursor's post-commit data
WAKE_KEY = "crm_lead_scoring.wake"
# what _scoring_probability_follows writes
PROBABILITY_FIELDS = [
    "probability",
    "automated_probability",
    "prorated_revenue",
    "recurring_revenue_monthly_prorated",
    "recurring_revenue_prorated",
]
# the key of a learned field's value in a row of _scoring_rows
FIELD_KEY = "field__%s"
SCORE_FIELDS = [
    "score",
    "score_grade",
    "score_source",
    "score_explanation",
    "score_model_id",
    "score_date",
    "score_pending",
]


def _remembered_translations(env):
    """``env._`` that remembers the texts without arguments: the engine asks for the same few
    words for each lead of a batch (186,000 lookups for 50,000 leads scored, 0.15 s)."""
    remembered = {}

    def translate(source, *args, **kwargs):
        if args or kwargs:
            return env._(source, *args, **kwargs)
        text = remembered.get(source)
        if text is None:
            text = remembered[source] = env._(source)
        return text

    return translate


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # score, grade and model are not indexed: an index on a column the scoring rewrites makes
    # PostgreSQL write a new entry in every one of crm_lead's 30-odd indexes for each rescored
    # lead, where an update of unindexed columns stays on its page (HOT). Measured on 50,107
    # open leads: 7.1 s with the three indexes, 1.7 s without. A search by grade reads the
    # leads the other conditions select (company, team, stage), which have their own indexes.
    score = fields.Integer(
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Chance of winning, 0 to 100, from the rules and, with enough history, the learned model.",
    )
    score_grade = fields.Selection(GRADES, string="Grade", readonly=True, copy=False)
    score_source = fields.Selection(SCORE_SOURCES, string="Scored By", readonly=True, copy=False)
    # What the factors say for every reader (some words are kept to some groups): read through
    # the explanation computed for the reader, never as such.
    score_explanation = fields.Json(readonly=True, copy=False, groups="base.group_system")
    score_explanation_html = fields.Html(
        string="Why this score", compute="_compute_score_explanation_html", sanitize=False
    )
    score_tooltip = fields.Char(compute="_compute_score_explanation_html")
    score_model_id = fields.Many2one("crm.lead.scoring.model", string="Scoring Model", readonly=True, copy=False)
    score_date = fields.Datetime(
        string="Score Changed On",
        readonly=True,
        copy=False,
        help="When the score or its explanation last changed: a rescoring that finds the same leaves the lead as is.",
    )
    score_history_ids = fields.One2many("crm.lead.score.history", "lead_id")
    score_pending = fields.Boolean(
        readonly=True, copy=False, help="Created or changed since it was last scored: the scoring job takes it next."
    )
    score_trend = fields.Integer(
        compute="_compute_score_trend",
        string="Change in 30 Days",
        help="Score now minus the score 30 days ago.",
    )

    _score_pending_idx = models.Index("(id) WHERE score_pending")
    # the rescoring pass claims and counts the open leads after its position (each batch)
    _scoring_open_idx = models.Index("(id) WHERE active AND won_status = 'pending'")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("score_explanation")
    @api.depends_context("uid")
    def _compute_score_explanation_html(self):
        may_read = {}

        def words(factor):
            """The factor's words for this reader: its detail only for the groups it names."""
            detail, groups = factor.get("detail"), factor.get("groups") or ""
            if not detail:
                return factor["label"]
            if groups not in may_read:
                may_read[groups] = not groups or self.env.user.has_groups(groups)
            return detail if may_read[groups] else factor["label"]

        for lead in self:
            # sudo: the stored factors hold the words of every reader; only this reader's are shown
            factors = [dict(factor, label=words(factor)) for factor in lead.sudo().score_explanation or []]
            lines = []
            for factor in factors:
                points = factor["points"]
                css = "text-success" if points > 0 else "text-danger"
                lines.append(
                    Markup("<tr><td>%s</td><td class='text-end %s'>%s</td></tr>")
                    % (escape(factor["label"]), css, f"{points:+.1f}")
                )
            lead.score_explanation_html = (
                Markup("<table class='table table-sm o_lead_score_explanation'><tbody>%s</tbody></table>")
                % Markup("").join(lines)
                if lines
                else False
            )
            top = sorted(factors, key=lambda f: -abs(f["points"]))[:4]
            lead.score_tooltip = " · ".join(f"{f['label']} {f['points']:+.0f}" for f in top) or False

    @api.depends("score", "score_history_ids")
    def _compute_score_trend(self):
        month_ago = fields.Datetime.subtract(fields.Datetime.now(), days=30)
        before = {}
        if self.ids:
            self.env.cr.execute(
                SQL(
                    """SELECT DISTINCT ON (lead_id) lead_id, score FROM crm_lead_score_history
                        WHERE lead_id = ANY(%s) AND date <= %s ORDER BY lead_id, date DESC, id DESC""",
                    list(self.ids),
                    month_ago,
                )
            )
            before = dict(self.env.cr.fetchall())
        for lead in self:
            lead.score_trend = lead.score - before[lead.id] if lead.id in before else 0

    def _compute_probabilities(self):
        """Odoo's predictive probability, except where the company lets the score drive it.

        Off by default (see ``res.company.scoring_drives_probability``): then Odoo's own
        computation runs alone, with no read added.
        """
        driving = self._scoring_driving_company_ids()
        if not driving:
            return super()._compute_probabilities()
        was_automated = {lead.id: lead.active and lead.is_automated_probability for lead in self}
        result = super()._compute_probabilities()
        current = self.env.company.id
        for lead in self:
            if (lead.company_id.id or current) in driving and lead.score_grade and lead.won_status == "pending":
                lead.automated_probability = lead.score
                if was_automated[lead.id]:
                    lead.probability = lead.score
        return result

    def _update_automated_probabilities(self):
        """After Odoo's daily recompute, put the scores back where they drive the probability."""
        result = super()._update_automated_probabilities()
        if not self._scoring_driving_company_ids():
            return result
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead l
                      SET %s
                     FROM res_company c
                    WHERE c.id = l.company_id AND c.scoring_drives_probability
                      AND l.score_grade IS NOT NULL AND l.won_status = 'pending'
                      AND l.automated_probability IS DISTINCT FROM l.score""",
                self._scoring_probability_follows(SQL("l.score"), SQL("TRUE")),
            )
        )
        self.invalidate_model(PROBABILITY_FIELDS)
        return result

    @api.model
    def _scoring_probability_follows(self, score, drives):
        """The assignments of an ``UPDATE crm_lead AS l`` by which the automated probability follows
        ``score`` where ``drives`` is true (the probability too, unless it was set by hand), and the
        prorated amounts follow the probability, by the formulas of crm's computes.

        The one definition for the scoring's store and for the daily recompute of Odoo put back
        where the score drives the probability (which left the amounts behind before).
        """
        probability = SQL(
            """CASE WHEN %s AND (l.probability = l.automated_probability OR l.probability IS NULL)
                    THEN %s ELSE l.probability END""",
            drives,
            score,
        )
        return SQL(
            """probability = %(probability)s,
               automated_probability = CASE WHEN %(drives)s THEN %(score)s ELSE l.automated_probability END,
               prorated_revenue = round(
                   (COALESCE(l.expected_revenue, 0) * COALESCE(%(probability)s, 0) / 100.0)::numeric, 2),
               recurring_revenue_monthly_prorated =
                   COALESCE(l.recurring_revenue_monthly, 0) * COALESCE(%(probability)s, 0) / 100.0,
               recurring_revenue_prorated = COALESCE(l.recurring_revenue, 0) * COALESCE(%(probability)s, 0) / 100.0""",
            probability=probability,
            drives=drives,
            score=score,
        )

    @api.model
    @ormcache()
    def _scoring_driving_company_ids(self):
        """Ids of the companies whose scores drive the probability (cached: read on every compute)."""
        # sudo: a setting of every company, not data shown to the user; the cache is shared by all users
        companies = self.env["res.company"].sudo().with_context(active_test=False)
        return frozenset(companies._search([("scoring_drives_probability", "=", True)]).get_result_ids())

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _scoring_check_score_fields(self, vals):
        """The score is the engine's record: refused to every client (a form shows it read-only).

        A salesperson could otherwise give a lead the grade that routes it, or stop its rescoring,
        over RPC. The engine writes these fields in SQL, and imports and the demo run as superuser.
        """
        forced = sorted(set(SCORE_FIELDS) & vals.keys())
        if forced and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of a lead are set by lead scoring itself, not by hand.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in forced),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        """New leads are scored by the scoring job right after the commit, off the creator's request.

        The queueing costs Odoo's ``INSERT`` no query: the flag travels in its values, and the job is
        woken after the commit. With ``crm_lead_scoring_sync`` in the context they are scored at once.
        """
        for vals in vals_list:
            self._scoring_check_score_fields(vals)
        context = self.env.context
        deferred = not context.get("crm_lead_scoring_skip") and not context.get("crm_lead_scoring_sync")
        if deferred:
            vals_list = [{"score_pending": True, **vals} for vals in vals_list]
        leads = super().create(vals_list)
        if deferred:
            self._scoring_wake_job()
        elif context.get("crm_lead_scoring_sync"):
            leads._scoring_rescore(reason="create")
        return leads

    def write(self, vals):
        """A change of a fact the scoring reads queues the leads for the scoring job.

        Odoo's lead writes (assignment, conversion, stage changes) get no query from this: the
        fields that matter are cached, the flag goes in the same ``UPDATE`` and the job is woken
        after the commit. With ``crm_lead_scoring_sync`` in the context the leads are rescored at once.
        """
        self._scoring_check_score_fields(vals)
        context = self.env.context
        if context.get("crm_lead_scoring_skip") or not self._scoring_trigger_fields().intersection(vals):
            return super().write(vals)
        if context.get("crm_lead_scoring_sync"):
            result = super().write(vals)
            self._scoring_rescore(reason="update")
            return result
        result = super().write({**vals, "score_pending": True})
        self._scoring_wake_job()
        return result

    def _scoring_wake_job(self):
        """Trigger the scoring job once this transaction is committed (once per transaction).

        After the commit, not in it: the trigger's ``INSERT`` then adds nothing to the writer's
        transaction (nor to Odoo's query counts), and the job finds the queued leads committed.
        If the wake-up fails the leads stay queued: the job's hourly run takes them.
        """
        postcommit = self.env.cr.postcommit
        if WAKE_KEY in postcommit.data:
            return
        registry = self.env.registry

        def wake():
            try:
                with registry.cursor() as cr:
                    # superuser: the trigger is the scheduler's own bookkeeping, after the user's commit
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    cron = env.ref("crm_lead_scoring.ir_cron_scoring_pending", raise_if_not_found=False)
                    if cron:
                        cron._trigger()
            except Exception:
                # the user's change is committed already: never fail it for a wake-up
                _logger.warning("Lead scoring: could not wake the scoring job", exc_info=True)

        postcommit.data[WAKE_KEY] = wake
        postcommit.add(wake)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_scoring_recompute(self):
        # a button any client can call over RPC: the rescoring writes as the engine, so it is only
        # for those who may change these leads
        self.check_access("write")
        self._scoring_rescore(reason="manual")
        return True

    # ------------------------------------------------------------------
    # Hooks for other addons
    # ------------------------------------------------------------------

    def _scoring_extra_columns(self, rows, now):
        """Facts other addons add to the scoring, for the leads described by ``rows``.

        :param rows: one dict per lead, in scoring order, with at least ``id``,
            ``company_id``, ``partner_id``, ``commercial_partner_id``,
            ``email_from``, ``create_date``, ``date_closed`` and ``won_status``
        :param now: the moment the facts are measured at; for a closed lead,
            measure at ``date_closed`` so that the model does not learn from the future
        :return: a list of :class:`~odoo.addons.crm_lead_scoring.engine.features.Column`
            whose ``values`` follow the order of ``rows``; override and extend
            ``super()``'s list. The model learns from them at the next training
            and the explanations name them with their ``label``/``describe``.
        """
        return []

    # ------------------------------------------------------------------
    # Scoring: facts
    # ------------------------------------------------------------------

    def _scoring_field_names(self, company):
        names = company.scoring_field_ids.mapped("name") or list(DEFAULT_FIELDS)
        return [name for name in names if name in self._fields and name not in FORBIDDEN_FIELDS]

    @api.model
    @ormcache()
    def _scoring_scalar_field_names(self):
        """The learned lead fields of every company but the many2many ones: read with the base
        facts in one query (cached; cleared when a company's learned fields change)."""
        # sudo: which fields the scoring reads is configuration, not data the user is shown
        companies = self.env["res.company"].sudo().with_context(active_test=False)
        names = set()
        for company in companies.browse(companies._search([]).get_result_ids()):
            names.update(self._scoring_field_names(company))
        return tuple(sorted(name for name in names if self._fields[name].type != "many2many"))

    def _scoring_trigger_fields(self):
        """The lead fields whose change queues a lead for rescoring (cached: read on every write)."""
        return self._scoring_trigger_fields_cached()

    @api.model
    @ormcache()
    def _scoring_trigger_fields_cached(self):
        """Base facts, every company's learned fields and every fit rule's fields: one set for all
        leads, so that a write reads nothing to decide. The cache is cleared when rules or the
        companies' learned fields change."""
        names = set(BASE_TRIGGER_FIELDS)
        # sudo: which fields the scoring reads is configuration, not data the user is shown; the
        # cache is shared by all users, so it covers every company
        companies = self.env["res.company"].sudo().with_context(active_test=False)
        for company in companies.browse(companies._search([]).get_result_ids()):
            names.update(self._scoring_field_names(company))
        # sudo: the rules' conditions name fields; the rules themselves are not shown to the user
        fit_rules = self.env["crm.lead.scoring.rule"].sudo().search([("kind", "=", "fit")])
        for rule in fit_rules:
            for condition in rule._lead_domain().iter_conditions():
                names.add(condition.field_expr.split(".")[0])
        return frozenset(names)

    @api.model
    def _scoring_ids_condition(self, ids, alias="crm_lead", column="id"):
        """``alias.column = ANY(ids)``, bounded by the smallest and the largest id.

        The jobs score runs of consecutive open leads: bounded, the rows are reached through the
        primary key's range; with the list alone PostgreSQL reads the whole table for a few
        thousand ids (measured: 45 ms against 6 ms a batch on the benchmark's 100,000 leads).
        """
        ids = list(ids)
        column = SQL.identifier(alias, column)
        if not ids:
            return SQL("FALSE")
        return SQL(
            "%s = ANY(%s::int[]) AND %s BETWEEN %s AND %s", column, batch.pg_array(ids), column, min(ids), max(ids)
        )

    def _scoring_rows(self, ids, now, lock=False, field_names=()):
        """Base facts of the leads, one query, in the order of ``ids``.

        :param field_names: lead fields (not many2many) read in the same query, each under the
            key ``FIELD_KEY % name``, where :meth:`_scoring_field_columns` takes them

        :param lock: only the open leads among ``ids`` that nobody is editing right now, locked
            (``FOR UPDATE SKIP LOCKED``: a lead being edited is skipped, not waited for; its own
            write scores it again), each row with the lead's score as it stands (``before``:
            ``(score, grade, company_id, team_id, source, model_id)``); ``"claimed"``: the same
            for leads the caller has locked in this transaction already
        """
        lock_sql = SQL("")
        if lock == "claimed":
            # the caller's claim holds the locks already
            lock_sql = SQL(" AND l.won_status = 'pending'")
        elif lock:
            lock_sql = SQL(
                """ AND l.won_status = 'pending'
                  ORDER BY l.id FOR UPDATE OF l SKIP LOCKED"""
            )
        self.env.cr.execute(
            SQL(
                """SELECT l.id, l.company_id, l.team_id, l.partner_id, l.email_from, l.phone,
                          l.partner_name, l.create_date, l.date_last_stage_update, l.date_closed, l.won_status,
                          COALESCE(p.commercial_partner_id, p.id) AS commercial_partner_id,
                          l.score, l.score_grade, l.score_source, l.score_model_id%s
                     FROM crm_lead l
                LEFT JOIN res_partner p ON p.id = l.partner_id
                    WHERE %s%s""",
                SQL("").join(
                    SQL(", %s AS %s", SQL.identifier("l", name), SQL.identifier(FIELD_KEY % name))
                    for name in field_names
                ),
                self._scoring_ids_condition(ids, "l"),
                lock_sql,
            )
        )
        by_id = {row["id"]: row for row in self.env.cr.dictfetchall()}
        rows = [by_id[i] for i in ids if i in by_id]
        for row in rows:
            row["measured_at"] = row["date_closed"] if row["won_status"] != "pending" and row["date_closed"] else now
            if lock:
                row["before"] = (
                    row["score"],
                    row["score_grade"],
                    row["company_id"],
                    row["team_id"],
                    row["score_source"],
                    row["score_model_id"],
                )
        return rows

    def _scoring_field_columns(self, rows, field_names):
        """One column per configured lead field, read set-based."""
        ids = [row["id"] for row in rows]
        columns = []
        scalar = [name for name in field_names if self._fields[name].type != "many2many"]
        values = {}
        if rows and all(FIELD_KEY % name in rows[0] for name in scalar):
            # read with the rows (see _scoring_rows' ``field_names``)
            by_field = [[row[key] for row in rows] for key in (FIELD_KEY % name for name in scalar)]
        else:
            if scalar:
                self.env.cr.execute(
                    SQL(
                        "SELECT id, %s FROM crm_lead WHERE %s",
                        SQL(", ").join(SQL.identifier(name) for name in scalar),
                        self._scoring_ids_condition(ids),
                    )
                )
                values = {row[0]: row[1:] for row in self.env.cr.fetchall()}
            missing = (None,) * len(scalar)
            # one list per field, in the order of ``ids``: transposed in one pass
            by_field = (
                [list(field_values) for field_values in zip(*(values.get(i, missing) for i in ids), strict=True)]
                if ids
                else [[] for _name in scalar]
            )
        for position, name in enumerate(scalar):
            field = self._fields[name]
            label = field._description_string(self.env)
            raw = by_field[position]
            if field.type == "many2one":
                names = self._scoring_names(field.comodel_name, {v for v in raw if v})
                # one (id, name) per distinct value, shared by the leads that have it
                pairs = {v: (v, names.get(v, str(v))) for v in set(raw) if v}
                columns.append(
                    features.Column(name, label, features.CATEGORY, [pairs.get(v) if v else None for v in raw])
                )
            elif field.type == "selection":
                labels = dict(field._description_selection(self.env))
                columns.append(
                    features.Column(name, label, features.CATEGORY, [(v, labels.get(v, v)) if v else None for v in raw])
                )
            elif field.type == "boolean":
                columns.append(features.Column(name, label, features.BOOL, [bool(v) for v in raw]))
            elif field.type == "monetary":
                columns.append(features.Column(name, label, features.LOG, raw))
            else:
                columns.append(features.Column(name, label, features.NUMERIC, raw))
        for name in field_names:
            field = self._fields[name]
            if field.type != "many2many":
                continue
            self.env.cr.execute(
                SQL(
                    "SELECT %s, %s FROM %s WHERE %s",
                    SQL.identifier(field.column1),
                    SQL.identifier(field.column2),
                    SQL.identifier(field.relation),
                    self._scoring_ids_condition(ids, field.relation, field.column1),
                )
            )
            by_lead = defaultdict(list)
            for lead_id, other_id in self.env.cr.fetchall():
                by_lead[lead_id].append(other_id)
            names = self._scoring_names(field.comodel_name, {v for vs in by_lead.values() for v in vs})
            columns.append(
                features.Column(
                    name,
                    field._description_string(self.env),
                    features.MULTI,
                    [[(v, names.get(v, str(v))) for v in sorted(by_lead.get(i, []))] for i in ids],
                )
            )
        return columns

    def _scoring_names(self, model_name, ids):
        # sudo: only the display names of values the lead already points to, for its explanation
        records = self.env[model_name].sudo().with_context(active_test=False).browse(sorted(ids))
        return {record.id: record.display_name for record in records}

    def _scoring_engagement(self, rows, now):
        """Engagement per lead: counts, decayed sums per event kind, last interaction.

        The leads' moments (``measured_at``) and half-lives come from ``rows`` as arrays, and the
        messages of the batch's id range are read through the ``(model, res_id)`` index: joining
        each message to its lead and its company made PostgreSQL scan the whole message table.
        """
        if not rows:
            return defaultdict(list)
        half_lives = {}
        for company_id in {row["company_id"] for row in rows}:
            # a lead without company: the half-life of the company scoring it (the current one)
            company = self.env["res.company"].browse(company_id) if company_id else self.env.company
            # no half-life (0): events never fade (NULL below)
            half_lives[company_id] = company.scoring_half_life_days or None
        self.env.cr.execute(
            SQL(
                """
                WITH lead AS (
                    SELECT * FROM unnest(%(ids)s::int[], %(until)s::timestamp[], %(half_lives)s::float8[])
                                  AS lead(id, until, half_life)
                ), msg AS (
                    SELECT lead.id AS lead_id, m.date, m.mail_activity_type_id, lead.half_life, lead.until,
                           CASE
                             WHEN m.mail_activity_type_id IS NOT NULL THEN 'activity_done'
                             WHEN m.message_type = 'email' AND u.id IS NULL THEN 'email_in'
                             WHEN m.message_type IN ('comment', 'email', 'email_outgoing')
                                  AND u.id IS NOT NULL AND m.subtype_id = %(comment)s THEN 'email_out'
                           END AS event
                      FROM lead
                           -- the messages of the batch's id range through the (model, res_id) index;
                           -- with the join alone PostgreSQL hashed the whole message table
                      JOIN mail_message m ON m.model = 'crm.lead' AND m.res_id = lead.id
                                         AND m.res_id BETWEEN %(first)s AND %(last)s AND m.date <= lead.until
                 LEFT JOIN res_users u ON u.partner_id = m.author_id AND NOT u.share
                )
                SELECT lead_id, event, mail_activity_type_id, count(*), max(date),
                       -- date_part, not extract: a double, where extract's numeric makes power() ten times slower
                       sum(COALESCE(power(0.5, greatest(date_part('epoch', until - date) / 86400.0, 0) / half_life), 1))
                  FROM msg
                 WHERE event IS NOT NULL
              GROUP BY lead_id, event, mail_activity_type_id
                """,
                comment=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment"),
                ids=batch.pg_array(row["id"] for row in rows),
                first=min(row["id"] for row in rows),
                last=max(row["id"] for row in rows),
                until=batch.pg_array(row["measured_at"] for row in rows),
                half_lives=batch.pg_array(half_lives[row["company_id"]] for row in rows),
            )
        )
        engagement = defaultdict(list)
        for lead_id, event, activity_type_id, count, last, decayed in self.env.cr.fetchall():
            engagement[lead_id].append((event, activity_type_id, count, last, decayed))
        return engagement

    def _scoring_columns(self, rows, now, engagement=None):
        """Every fact the model learns from, as columns in the order of ``rows``."""
        if not rows:
            return []
        company = self.env["res.company"].browse(rows[0]["company_id"]) or self.env.company
        columns = self._scoring_field_columns(rows, self._scoring_field_names(company))
        if engagement is None:
            engagement = self._scoring_engagement(rows, now)

        def days(later, earlier):
            return (later - earlier).total_seconds() / 86400.0 if later and earlier else None

        counts = defaultdict(lambda: {"email_in": 0, "email_out": 0, "activity_done": 0})
        last = {}
        for lead_id, items in engagement.items():
            lead_counts = counts[lead_id]
            for event, _activity_type_id, count, date, _decayed in items:
                lead_counts[event] += count
                if lead_id not in last or date > last[lead_id]:
                    last[lead_id] = date
        domains = [(row["email_from"] or "").rpartition("@")[2].strip().lower().rstrip(">") for row in rows]
        # translated once, not once per lead
        free, company_address = (
            ("free", self.env._("a free-mail address")),
            ("company", self.env._("a company address")),
        )
        columns += [
            features.Column(
                "email_domain_kind",
                self.env._("Email address"),
                features.CATEGORY,
                [None if not d else free if d in FREE_MAIL_DOMAINS else company_address for d in domains],
            ),
            features.Column(
                "has_phone", self.env._("Phone number given"), features.BOOL, [bool(r["phone"]) for r in rows]
            ),
            features.Column(
                "known_contact", self.env._("Known contact"), features.BOOL, [bool(r["partner_id"]) for r in rows]
            ),
            features.Column(
                "company_named",
                self.env._("Company name given"),
                features.BOOL,
                [bool(r["partner_name"] or r["partner_id"]) for r in rows],
            ),
            features.Column(
                "age_days",
                self.env._("Days in the pipeline"),
                features.LOG,
                [days(r["measured_at"], r["create_date"]) for r in rows],
                describe=self.env._("{value:.0f} days in the pipeline"),
            ),
            features.Column(
                "stage_days",
                self.env._("Days in the current stage"),
                features.LOG,
                [days(r["measured_at"], r["date_last_stage_update"]) for r in rows],
                describe=self.env._("{value:.0f} days in the current stage"),
            ),
            features.Column(
                "emails_in",
                self.env._("Emails received"),
                features.LOG,
                [counts[r["id"]]["email_in"] for r in rows],
                describe=self.env._("{value:g} emails received"),
            ),
            features.Column(
                "emails_out",
                self.env._("Emails sent"),
                features.LOG,
                [counts[r["id"]]["email_out"] for r in rows],
                describe=self.env._("{value:g} emails sent"),
            ),
            features.Column(
                "activities_done",
                self.env._("Activities done"),
                features.LOG,
                [counts[r["id"]]["activity_done"] for r in rows],
                describe=self.env._("{value:g} activities done"),
            ),
            features.Column(
                "days_since_contact",
                self.env._("Days since the last interaction"),
                features.LOG,
                [days(r["measured_at"], last.get(r["id"])) for r in rows],
                describe=self.env._("last interaction {value:.0f} days ago"),
            ),
        ]
        columns += self._scoring_extra_columns(rows, now)
        return columns

    # ------------------------------------------------------------------
    # Scoring: training data
    # ------------------------------------------------------------------

    @api.model
    def _scoring_closed_lead_ids(self, company, team=None):
        domain = [("company_id", "=", company.id), ("won_status", "in", ("won", "lost"))]
        if team:
            domain.append(("team_id", "=", team.id))
        # sudo: training reads every closed lead of the scope, whoever may read them
        return self.sudo().with_context(active_test=False)._search(domain, order="id").get_result_ids()

    @api.model
    def _scoring_training_data(self, ids):
        now = fields.Datetime.now()
        rows = []
        for chunk in split_every(BATCH * 5, list(ids)):
            rows.extend(self._scoring_rows(list(chunk), now))
        columns = self._scoring_columns(rows, now)
        won = [1 if row["won_status"] == "won" else 0 for row in rows]
        return columns, [row["id"] for row in rows], won

    # ------------------------------------------------------------------
    # Scoring: compute and store
    # ------------------------------------------------------------------

    def _scoring_rescore(self, reason="update"):
        """Score these leads (open ones) now, set-based, and act on crossed thresholds."""
        # sudo: which of these leads (the caller's, just written or checked) are open, archived ones too
        ids = self.sudo().with_context(active_test=False).filtered(lambda lead: lead.won_status == "pending").ids
        for chunk in split_every(BATCH, ids):
            self.browse(chunk)._scoring_score_batch(list(chunk), reason)

    # ------------------------------------------------------------------
    # Scoring: the jobs (the suite's batch-job pattern, suite_batch_job)
    # ------------------------------------------------------------------

    @api.model
    def _scoring_batch_size(self):
        """Leads per batch of the scoring jobs: about a second of work, so that the ten calls Odoo
        makes in a cron run stay far below the cron worker's time limit.

        ``crm_lead_scoring.batch_size`` (a system parameter) sets it; the tests make it small.
        """
        return batch.batch_size(self.env, BATCH_SIZE_PARAM, JOB_BATCH)

    @api.model
    def _cron_score_pending(self, commit=True):
        """Score the leads created or changed since they were last scored (``score_pending``).

        Claimed oldest first with ``FOR UPDATE SKIP LOCKED``, so that several servers share the
        queue; scoring a lead takes it out of the queue, so the next call resumes with what is
        left. A lead someone is editing is left for its writer's commit to queue again.

        :param commit: ``False`` inside a caller's transaction (tests): the whole queue, nothing committed
        :return: how many leads left the queue
        """
        unscored = {}

        def claim(limit):
            self.env.cr.execute(
                SQL(
                    """SELECT id, score_grade IS NULL FROM crm_lead WHERE score_pending
                        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
                    limit,
                )
            )
            rows = self.env.cr.fetchall()
            unscored.update(rows)
            return [lead_id for lead_id, _unscored in rows]

        def process(ids):
            # closed leads need no score: they only leave the queue
            self.env.cr.execute(
                SQL(
                    """UPDATE crm_lead SET score_pending = false
                        WHERE id = ANY(%s) AND won_status IS DISTINCT FROM 'pending'""",
                    ids,
                )
            )
            # never scored: a new lead; else one whose facts were changed since its last score
            created = [lead_id for lead_id in ids if unscored[lead_id]]
            updated = [lead_id for lead_id in ids if not unscored[lead_id]]
            for lead_ids, reason in ((created, "create"), (updated, "update")):
                if lead_ids:
                    self._scoring_score_batch(lead_ids, reason, locked=True)

        def left():
            self.env.cr.execute("SELECT count(*) FROM crm_lead WHERE score_pending")
            return self.env.cr.fetchone()[0]

        done = batch.run(
            self.env,
            "Lead scoring: new and changed leads",
            claim,
            process,
            left,
            batch_size=self._scoring_batch_size(),
            commit=commit,
        )
        self.invalidate_model(["score_pending"])
        return done

    @api.model
    def _cron_rescore(self, commit=True):
        """Daily: engagement decays and new facts arrive even when nobody edits a lead.

        One pass over the open leads in id order that resumes where the last call stopped: its
        position and its reason (``rescore``, or ``model`` when the training asked for it, see
        :meth:`_scoring_start_rescoring`) are kept in a :class:`~odoo.addons.suite_batch_job.batch.RunState`,
        committed with each batch and cleared at the end of the pass, so that the next daily run
        starts again from the first lead.

        :param commit: ``False`` inside a caller's transaction (tests): the whole pass, nothing committed
        :return: how many leads were handed to scoring
        """
        return self._scoring_rescore_pass(batch.RunState(self.env, RESCORE_STATE), "rescore", None, commit)

    @api.model
    def _scoring_rescore_all(self, companies=None, reason="rescore", commit=True):
        """Rescore every open lead (of ``companies``) now, batch by batch: one pass to its end.

        For a caller's own transaction (``commit=False``) or a script (``commit=True``: each batch
        committed). It keeps no position: a cron must use :meth:`_cron_rescore` (or start its
        pass with :meth:`_scoring_start_rescoring`), which resumes after a spent budget.

        With ``reason="rescore"`` (the daily job) or ``"model"`` a lead whose score, grade and scorer
        are unchanged keeps its row as is: its explanation is not even put in words.
        """
        return self._scoring_rescore_pass(None, reason, companies.ids if companies else None, commit)

    @api.model
    def _scoring_start_rescoring(self, reason="model"):
        """Start the rescoring pass again from the first open lead, with ``reason``, and wake its job.

        The training calls it once new models are in use: the scores follow within minutes,
        through the resumable job, instead of inside the training's call.
        """
        batch.RunState(self.env, RESCORE_STATE).save(position=0, reason=reason)
        cron = self.env.ref("crm_lead_scoring.ir_cron_scoring_rescore", raise_if_not_found=False)
        if cron:
            cron._trigger()

    def _scoring_rescore_pass(self, state, reason, company_ids, commit):
        """One call of a pass over the open leads, in id order, from the pass's position.

        :param state: the pass's ``RunState`` (the cron's: the pass resumes in the next call), or
            ``None`` (the pass starts from the first lead and keeps its position in memory)
        :param reason: the pass's reason when the state names none
        :param company_ids: only the open leads of these companies (``None``: all of them)
        """
        # the pass as this call knows it: "known" is the state as this call last read or wrote it,
        # "over" says that the pass ended in this call
        run = {"position": 0, "reason": reason, "known": None, "over": False, "left": None, "counted": False}

        def end_pass():
            if state is not None:
                state.clear()
            self.env.flush_all()
            run.update(over=True, left=0)

        def claim(limit):
            if run["over"]:
                return []
            if state is not None:
                value = state.value
                if run["known"] is not None and value != run["known"]:
                    # someone started the pass again meanwhile (the training, for its new models):
                    # that pass goes on from the next call, which its trigger asks for
                    run.update(over=True, left=0)
                    return []
                position = value.get("position")
                run["known"] = value
                run["position"] = position if isinstance(position, int) and position > 0 else 0
                run["reason"] = value["reason"] if value.get("reason") in RESCORE_REASONS else reason
            ids = self._scoring_claim_open(run["position"], limit, company_ids)
            if not ids:
                # nothing after the position, or only leads being edited (their writer's commit
                # queues them): the pass is over, the next one starts from the first lead
                end_pass()
            return ids

        def process(ids):
            # claimed FOR UPDATE: the batch does not lock its leads again
            self._scoring_score_batch(ids, run["reason"], locked=True)
            # leads skipped because someone is editing them are passed over too, not counted as left
            position = max(ids)
            # what is left: counted after the call's first batch, then that count less the leads
            # each batch scored (all of them were after the previous position); counted again
            # when that reaches zero, so that an exact count ends the pass. Leads opened or closed
            # meanwhile by others show in the next call's count (a new lead is scored by the
            # queue job anyway). Counting at every batch cost 5 to 20 ms each.
            more = run["left"] - len(ids) if run["counted"] else 0
            if more <= 0:
                more = self._scoring_count_open(position, company_ids)
                run["counted"] = True
            if not more:
                end_pass()
                return
            if state is not None:
                state.save(position=position, reason=run["reason"])
            # a write conflict on the state is this batch's: raised here, before the pass moves on
            self.env.flush_all()
            run.update(position=position, left=more, known=state.value if state is not None else None)

        def left():
            if run["left"] is None:
                run["left"] = self._scoring_count_open(run["position"], company_ids)
            return run["left"]

        return batch.run(
            self.env,
            "Lead scoring: rescoring open leads",
            claim,
            process,
            left,
            batch_size=self._scoring_batch_size(),
            commit=commit,
        )

    def _scoring_open_leads_query(self, position, company_ids):
        condition = SQL("active AND won_status = 'pending' AND id > %s", position)
        if company_ids is not None:
            condition = SQL("%s AND company_id = ANY(%s)", condition, list(company_ids))
        return condition

    def _scoring_claim_open(self, position, limit, company_ids=None):
        """Ids of the open leads after ``position``, oldest first, locked; those being edited are skipped."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_lead WHERE %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                self._scoring_open_leads_query(position, company_ids),
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _scoring_count_open(self, position, company_ids=None):
        """How many open leads come after ``position``: what the pass still has to score."""
        self.env.cr.execute(
            SQL("SELECT count(*) FROM crm_lead WHERE %s", self._scoring_open_leads_query(position, company_ids))
        )
        return self.env.cr.fetchone()[0]

    def _scoring_score_batch(self, ids, reason, locked=False):
        """Score the open leads among ``ids``; return how many were scored (changed or not).

        :param locked: the caller's claim locked ``ids`` in this transaction (``FOR UPDATE``): they
            are not locked again (which cost as much as reading their facts)
        """
        now = fields.Datetime.now()
        self.env.flush_all()  # the facts are read in SQL: pending ORM writes (a message just posted) first
        # locked with their facts, in one query
        rows = self._scoring_rows(
            ids, now, lock="claimed" if locked else True, field_names=self._scoring_scalar_field_names()
        )
        if not rows:
            return 0
        before = {row["id"]: row["before"] for row in rows}
        # a pass over every open lead leaves alone those whose score and scorer stay the same
        unchanged_from = before if reason in RESCORE_REASONS else None
        results = self._scoring_compute(rows, now, unchanged_from=unchanged_from)
        self._scoring_store(results, before, reason, now)
        return len(rows)

    def _scoring_compute(self, rows, now, unchanged_from=None):
        """``{lead_id: (score, grade, source, factors, model_id)}`` for open leads.

        :param rows: :meth:`_scoring_rows`' rows of the leads
        :param unchanged_from: ``{lead_id: before}`` (see :meth:`_scoring_rows`): leads whose score,
            grade, scorer and model would stay the same are left out of the result (nor are they explained)
        """
        engagement = self._scoring_engagement(rows, now)
        by_company = defaultdict(list)
        for row in rows:
            by_company[row["company_id"]].append(row)
        results = {}
        for company_id, company_rows in by_company.items():
            company = self.env["res.company"].browse(company_id) if company_id else self.env.company
            results.update(self._scoring_compute_company(company, company_rows, engagement, now, unchanged_from))
        return results

    def _scoring_compute_company(self, company, rows, engagement, now, unchanged_from=None):
        translate = _remembered_translations(self.env)
        rule_records, rule_scores = self._scoring_rule_results(company, rows, engagement)
        empty = rules.empty(company.scoring_rule_base, _=translate)
        model_results, explain = self._scoring_model_results(company, rows, engagement, now)
        weight = company.scoring_model_weight / 100.0
        has_rules = bool(rule_records)
        limits = (company.scoring_grade_a_min, company.scoring_grade_b_min, company.scoring_grade_c_min)
        grade_of = blend.grade
        scored = []
        for row in rows:
            lead_id = row["id"]
            model_id, probability, baseline = model_results.get(lead_id, (False, None, None))
            rule_result = rule_scores.get(lead_id, empty)
            score, source = blend.blended(rule_result[0], probability, weight, has_rules)
            score_int = int(round(score))
            grade = grade_of(score_int, *limits)
            if unchanged_from and unchanged_from[lead_id][:2] == (score_int, grade):
                if unchanged_from[lead_id][4:] == (source, model_id or None):
                    continue  # same score from the same scorer: the row stays, unexplained again
            scored.append((lead_id, rule_result, probability, baseline, score_int, grade, source, model_id))
        # only the leads whose score is stored are explained (a rescoring mostly confirms scores)
        explained = explain([item[0] for item in scored if item[2] is not None])
        results = {}
        for lead_id, rule_result, probability, baseline, score_int, grade, source, model_id in scored:
            model_result = None if probability is None else (probability, baseline, explained[lead_id])
            _score, _source, factors = blend.combine(rule_result, model_result, weight, has_rules, _=translate)
            results[lead_id] = (score_int, grade, source, factors, model_id)
        return results

    def _scoring_rule_results(self, company, rows, engagement):
        """The company's rules, and ``{lead_id: (rule_score, factors)}`` for the leads any rule gives points."""
        ids = [row["id"] for row in rows]
        Rule = self.env["crm.lead.scoring.rule"].sudo()  # sudo: rules apply to every lead, read-only here
        rule_records = Rule.search([("company_id", "in", (company.id, False))])
        rule_defs = {
            rule.id: rules.Rule(rule.id, rule.name, rule.points, rule.group_id.id or 0) for rule in rule_records
        }
        groups = {group.id: rules.Group(group.id, group.name, group.cap) for group in rule_records.group_id}
        team_of = {row["id"]: row["team_id"] for row in rows}
        fit_matches = defaultdict(list)
        # sudo: the fit rules' domains are matched among the leads being scored (``ids``) only
        leads = self.sudo().with_context(active_test=False)
        for rule in rule_records.filtered(lambda r: r.kind == "fit"):
            domain = Domain("id", "in", ids) & rule._lead_domain()
            if rule.team_id:
                domain &= Domain("team_id", "=", rule.team_id.id)
            for lead_id in leads._search(domain).get_result_ids():
                fit_matches[lead_id].append(rule.id)
        # plain tuples: this loop runs per lead and per event kind
        engagement_rules = [
            (rule.id, rule.event, rule.team_id.id, rule.activity_type_id.id)
            for rule in rule_records
            if rule.kind == "engagement"
        ]
        engaged = defaultdict(list)
        if engagement_rules:
            for lead_id in ids:
                for event, activity_type_id, count, _last, decayed in engagement.get(lead_id, ()):
                    for rule_id, rule_event, rule_team_id, rule_activity_type_id in engagement_rules:
                        if rule_event != event or (rule_team_id and rule_team_id != team_of[lead_id]):
                            continue
                        if rule_activity_type_id and rule_activity_type_id != activity_type_id:
                            continue
                        engaged[lead_id].append((rule_id, decayed, count))
        rule_scores = rules.score(fit_matches, engaged, rule_defs, groups, base=company.scoring_rule_base, _=self.env._)
        return rule_records, rule_scores

    def _scoring_model_results(self, company, rows, engagement, now):
        """``({lead_id: (model_id, probability, baseline)}, explain)`` for the leads a model scores.

        ``explain(lead_ids)`` returns ``{lead_id: factors}``, the model's part of the explanation
        of those leads, in words. It is asked only for the leads whose score is stored: the
        explanation (TreeSHAP for the trees) costs several times the prediction, and a daily
        rescoring finds most scores unchanged.
        """
        predictors = self._scoring_predictors(company)
        by_model = defaultdict(list)
        for index, row in enumerate(rows):
            model = predictors.get(row["team_id"]) or predictors.get(False)
            if model:
                by_model[model].append(index)
        if not by_model:
            return {}, lambda lead_ids: {}
        columns = self._scoring_columns(rows, now, engagement)
        results, scorer_of = {}, {}
        for model, indexes in by_model.items():
            predictor = learning.Predictor(model.payload)
            probabilities = predictor.predict([learning.subset(column, indexes) for column in columns])
            baseline = predictor.baseline
            for index, probability in zip(indexes, probabilities.tolist(), strict=True):
                results[rows[index]["id"]] = (model.id, probability, baseline)
                scorer_of[rows[index]["id"]] = (predictor, index)

        def explain(lead_ids):
            by_predictor = defaultdict(list)
            for lead_id in lead_ids:
                predictor, index = scorer_of[lead_id]
                by_predictor[predictor].append((lead_id, index))
            factors = {}
            for predictor, items in by_predictor.items():
                subset = [learning.subset(column, [index for _lead_id, index in items]) for column in columns]
                _p, explanations = predictor.explanations(subset, blend.TOP_FACTORS, _=self.env._)
                for position, (lead_id, _index) in enumerate(items):
                    factors[lead_id] = explanations.factors(position)
            return factors

        return results, explain

    def _scoring_predictors(self, company):
        """Active models by team id (``False``: the company's), with enough history to be trusted."""
        # sudo: the company's models in use score the leads; nothing of them is shown to the user
        models_ = (
            self.env["crm.lead.scoring.model"]
            .sudo()
            .search([("company_id", "=", company.id), ("state", "=", "active")])
        )
        return {
            model.team_id.id or False: model
            for model in models_
            if model.won_count + model.lost_count >= company.scoring_min_closed_leads
        }

    def _scoring_store(self, results, before, reason, now):
        """Write scores with one statement per batch; keep history for changes; fire thresholds.

        The values travel as arrays (``unnest``), one per column, each one literal
        (:func:`~odoo.addons.suite_batch_job.batch.pg_array`), where a ``VALUES`` list
        built row by row costs more than the update itself. Rows whose score, grade and explanation are unchanged are
        not rewritten (a periodic rescoring mostly confirms what is there).

        :param before: ``{lead_id: before}`` of the leads of ``results`` (see :meth:`_scoring_rows`)
        """
        if not results:
            return
        ids = list(results)
        self.flush_model(SCORE_FIELDS)
        scores, grades, sources, explanations, model_ids = [], [], [], [], []
        for score, grade, source, factors, model_id in results.values():
            scores.append(score)
            grades.append(grade)
            sources.append(source)
            explanations.append(json.dumps(factors))
            model_ids.append(model_id or None)
        # the score drives the automated probability where the company asks for it, as crm's own
        # cron does it: a probability set by hand is left alone
        # a lead without company follows the settings of the company that scored it (the current one)
        driving = self._scoring_driving_company_ids()
        current = self.env.company.id
        drives = [(before[lead_id][2] or current) in driving for lead_id in ids]
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead AS l
                      SET score = v.score, score_grade = v.grade, score_source = v.source, score_pending = false,
                          score_explanation = v.factors, score_model_id = v.model_id, score_date = %(now)s,
                          %(probability)s
                     FROM unnest(%(ids)s::int[], %(scores)s::int[], %(grades)s::varchar[], %(sources)s::varchar[],
                                 %(explanations)s::jsonb[], %(model_ids)s::int[], %(drives)s::bool[])
                              AS v(id, score, grade, source, factors, model_id, drives)
                    -- the range: the leads through the primary key's range, not a read of the table
                    WHERE l.id = v.id AND l.id BETWEEN %(first)s AND %(last)s
                      AND (l.score IS DISTINCT FROM v.score OR l.score_grade IS DISTINCT FROM v.grade
                           OR l.score_source IS DISTINCT FROM v.source OR l.score_pending
                           OR l.score_model_id IS DISTINCT FROM v.model_id
                           OR l.score_explanation IS DISTINCT FROM v.factors
                           OR (v.drives AND l.automated_probability IS DISTINCT FROM v.score))""",
                now=now,
                probability=self._scoring_probability_follows(SQL("v.score"), SQL("v.drives")),
                first=min(ids),
                last=max(ids),
                ids=batch.pg_array(ids),
                scores=batch.pg_array(scores),
                grades=batch.pg_array(grades),
                sources=batch.pg_array(sources),
                explanations=batch.pg_array(explanations),
                model_ids=batch.pg_array(model_ids),
                drives=batch.pg_array(drives),
            )
        )
        # a lead without grade was never scored: its first score is a change too
        changed = [
            (lead_id, result)
            for lead_id, result in results.items()
            if lead_id in before and (before[lead_id][1] is None or before[lead_id][:2] != result[:2])
        ]
        if changed:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO crm_lead_score_history
                           (lead_id, date, score, grade, previous_score, previous_grade, source, reason)
                       SELECT h.lead_id, %s, h.score, h.grade, h.previous_score, h.previous_grade, h.source, %s
                         FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::int[], %s::varchar[], %s::varchar[])
                              AS h(lead_id, score, grade, previous_score, previous_grade, source)""",
                    now,
                    reason,
                    batch.pg_array(lead_id for lead_id, _result in changed),
                    batch.pg_array(result[0] for _lead_id, result in changed),
                    batch.pg_array(result[1] for _lead_id, result in changed),
                    batch.pg_array(before[lead_id][0] if before[lead_id][1] else None for lead_id, _result in changed),
                    batch.pg_array(before[lead_id][1] for lead_id, _result in changed),
                    batch.pg_array(result[2] for _lead_id, result in changed),
                )
            )
        self.browse(ids).invalidate_recordset([*SCORE_FIELDS, "score_history_ids", *PROBABILITY_FIELDS])
        self._scoring_fire_thresholds(changed, before)

    def _scoring_fire_thresholds(self, changed, before):
        if not changed:
            return
        # sudo: thresholds are configuration every scoring run applies, whoever triggered it
        company_ids = list({before[lead_id][2] for lead_id, _result in changed})
        thresholds = self.env["crm.lead.scoring.threshold"].sudo().search([("company_id", "in", company_ids + [False])])
        if not thresholds:
            return
        to_fire = defaultdict(list)
        for lead_id, (score, grade, _source, _factors, _model) in changed:
            old_score, old_grade, company_id, team_id = before[lead_id][:4]
            for threshold in thresholds:
                if threshold.company_id and threshold.company_id.id != company_id:
                    continue
                if threshold.team_id and threshold.team_id.id != team_id:
                    continue
                if threshold._crossed(old_score if old_grade else None, old_grade, score, grade):
                    to_fire[threshold].append(lead_id)
        for threshold, lead_ids in to_fire.items():
            # sudo: the threshold's actions (assign, tag, schedule) are the manager's configured automation
            threshold._fire(self.sudo().browse(lead_ids).with_context(crm_lead_scoring_skip=True))
