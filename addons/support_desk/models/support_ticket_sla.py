"""Each ticket's SLA status lines and the clock arithmetic behind them.

A line counts one metric of one ticket (first reply, a next reply, the resolution of a
cycle). Its working time is kept as ``worked_seconds`` measured up to ``date_checkpoint``:
while the line is ongoing the clock runs from the checkpoint on, while it is paused it
does not. Every event (pause, resume, a new target, a reply) first moves the checkpoint to
now, so that the time already used is never counted twice nor lost, then fits the deadline
anew: ``deadline = checkpoint + (target - worked)`` in the team's working time.

Deadlines and warning dates are stored and indexed (partial indexes on ongoing lines), so
the periodic check finds due lines by an index range scan instead of a walk over tickets.
"""

import logging
import math
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.suite_batch_job import batch

from ..engine.clock import ContinuousTimeline
from .support_sla import METRICS

_logger = logging.getLogger(__name__)

SLA_STATES = [
    ("ongoing", "Ongoing"),
    ("paused", "Paused"),
    ("achieved", "Achieved"),
    ("failed", "Failed"),
]
HOUR = 3600.0
# a target reached within a second of its deadline is met (timestamps are stored to the microsecond)
TOLERANCE = 1.0
# lines a batch of the periodic check (system parameter support_desk.sla_check_batch_size)
CHECK_BATCH = 500


class SupportTicketSla(models.Model):
    _name = "support.ticket.sla"
    _description = "Ticket SLA Status"
    _order = "ticket_id, cycle, id"

    ticket_id = fields.Many2one("support.ticket", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="ticket_id.company_id", store=True, index=True)
    team_id = fields.Many2one(related="ticket_id.team_id", store=True, string="Team")
    user_id = fields.Many2one(related="ticket_id.user_id", string="Assigned To")
    sla_id = fields.Many2one("support.sla", string="SLA Policy", ondelete="set null", index="btree_not_null")
    metric = fields.Selection(METRICS, required=True)
    cycle = fields.Integer(
        default=1, required=True, help="1 for the ticket's first life, then one more each time it is reopened."
    )
    target_hours = fields.Float(string="Target (Working Hours)", required=True)
    date_start = fields.Datetime(string="Started", required=True)
    date_checkpoint = fields.Datetime(required=True, help="The working time used is measured up to this moment.")
    worked_seconds = fields.Float(help="Working time used up to the checkpoint.")
    state = fields.Selection(SLA_STATES, required=True, default="ongoing", index=True)
    deadline = fields.Datetime(help="When the target will be missed if the clock keeps running; empty while paused.")
    date_warning = fields.Datetime(string="Warn From")
    date_reached = fields.Datetime(string="Reached On")
    date_failed = fields.Datetime(string="Failed On")
    is_paused = fields.Boolean(
        string="Clock Paused", help="The ticket waits on the customer: no working time is counted."
    )
    warned = fields.Boolean(readonly=True)
    escalated = fields.Boolean(readonly=True, help="The policy's escalation ran when this line failed.")
    time_used_hours = fields.Float(string="Time Used (h)", compute="_compute_time")
    time_left_hours = fields.Float(string="Time Left (h)", compute="_compute_time")

    # the periodic check's searches: an index range scan on the ongoing lines only
    _deadline_ongoing_idx = models.Index("(deadline) WHERE state = 'ongoing'")
    _warning_ongoing_idx = models.Index("(date_warning) WHERE state = 'ongoing' AND warned IS NOT TRUE")

    def _counting(self):
        """Lines whose clock runs: ongoing ones, and failed ones not yet reached (their time still counts)."""
        return self.filtered(
            lambda line: line.state in ("ongoing", "failed") and not line.date_reached and not line.is_paused
        )

    @api.depends("state", "worked_seconds", "date_checkpoint", "target_hours")
    def _compute_time(self):
        now = fields.Datetime.now()
        used = self._used_seconds(now)
        for line in self:
            line.time_used_hours = used[line] / HOUR
            line.time_left_hours = max(line.target_hours - used[line] / HOUR, 0.0) if line.state != "failed" else 0.0

    # ------------------------------------------------------------------
    # Clock arithmetic, batched per team clock
    # ------------------------------------------------------------------

    @api.model
    def _clock_key(self, team):
        """Tickets of teams that share a calendar share its timeline."""
        if team.working_time == "always" or not team.resource_calendar_id:
            return ("always", 0)
        calendar = team.resource_calendar_id
        if not calendar.attendance_ids:
            # never a crash in the mail gateway or the cron: counted 24/7, and said in the log
            _logger.warning("Team %s: calendar %s has no working time; SLAs counted 24/7", team.id, calendar.id)
            return ("always", 0)
        return ("calendar", calendar.id)

    @api.model
    def _timeline(self, key, start, end):
        if key[0] == "always":
            return ContinuousTimeline()
        return self.env["resource.calendar"].browse(key[1])._support_timeline(start, end)

    @api.model
    def _plan(self, teams, starts, seconds):
        """For each team, start and working seconds: when the team's clock has counted them."""
        result = [None] * len(starts)
        groups = defaultdict(list)
        for index, team in enumerate(teams):
            groups[self._clock_key(team)].append(index)
        for key, indexes in groups.items():
            group_starts = [starts[i] for i in indexes]
            group_seconds = [max(seconds[i], 0.0) for i in indexes]
            first, last = min(group_starts), max(group_starts)
            # four working hours a calendar day is a safe first guess; widened if a long holiday needs it
            span = timedelta(days=14 + math.ceil(max(group_seconds) / HOUR / 4))
            for _attempt in range(5):
                timeline = self._timeline(key, first - timedelta(days=1), last + span)
                try:
                    planned = timeline.add_many(group_starts, group_seconds)
                    break
                except ValueError:
                    span *= 4
            else:
                raise UserError(
                    self.env._(
                        "The working hours %(calendar)s leave no working time to reach an SLA deadline.",
                        calendar=self.env["resource.calendar"].browse(key[1]).display_name,
                    )
                )
            for index, moment in zip(indexes, planned, strict=True):
                result[index] = moment
        return result

    @api.model
    def _measure(self, teams, starts, ends):
        """For each team, start and end: the working seconds of the team's clock in between."""
        result = [0.0] * len(starts)
        groups = defaultdict(list)
        for index, team in enumerate(teams):
            groups[self._clock_key(team)].append(index)
        for key, indexes in groups.items():
            group_starts = [starts[i] for i in indexes]
            group_ends = [ends[i] for i in indexes]
            timeline = self._timeline(key, min(group_starts) - timedelta(days=1), max(group_ends) + timedelta(days=1))
            for index, value in zip(indexes, timeline.between_many(group_starts, group_ends), strict=True):
                result[index] = float(value)
        return result

    def _used_seconds(self, now):
        """``{line: working seconds used}``, the running clock included."""
        running = self._counting()
        extra = self._measure(
            [line.team_id for line in running], running.mapped("date_checkpoint"), [now] * len(running)
        )
        used = {line: line.worked_seconds for line in self}
        for line, seconds in zip(running, extra, strict=True):
            used[line] += seconds
        return used

    # ------------------------------------------------------------------
    # Transitions (self: lines; values written in one batch per kind)
    # ------------------------------------------------------------------

    @api.model
    def _warning_settings(self):
        params = self.env["ir.config_parameter"].sudo()  # sudo: the warning settings are read, not shown
        share = int(params.get_param("support_desk.sla_warning_share", 80) or 80)
        minutes = int(params.get_param("support_desk.sla_warning_minutes", 0) or 0)
        return share / 100.0, minutes * 60.0

    @api.model
    def _fit_values(self, teams, checkpoints, worked, targets):
        """Deadline and warning date for lines whose clocks run from their checkpoints."""
        share, minutes_before = self._warning_settings()
        remaining = [target * HOUR - done for target, done in zip(targets, worked, strict=True)]
        warn_remaining = []
        for target, done in zip(targets, worked, strict=True):
            warn_at = target * HOUR * share
            if minutes_before:
                warn_at = min(warn_at, target * HOUR - minutes_before)
            warn_remaining.append(max(warn_at - done, 0.0))
        deadlines = self._plan(teams, checkpoints, remaining)
        warnings = self._plan(teams, checkpoints, warn_remaining)
        return [
            # a target already spent: the deadline is the checkpoint, the check fails it at once
            {"deadline": deadline, "date_warning": warning}
            for deadline, warning in zip(deadlines, warnings, strict=True)
        ]

    def _checkpoint(self, now):
        """Move the running clocks' checkpoint to ``now``, adding the working time in between."""
        running = self._counting().filtered(lambda line: line.date_checkpoint < now)
        if not running:
            return
        seconds = self._measure(
            [line.team_id for line in running], running.mapped("date_checkpoint"), [now] * len(running)
        )
        for line, value in zip(running, seconds, strict=True):
            line.write({"worked_seconds": line.worked_seconds + value, "date_checkpoint": now})

    def _fit(self):
        """Fit the deadlines of ongoing lines to their checkpoint, time used and target; clear paused ones."""
        ongoing = self.filtered(lambda line: line.state == "ongoing")
        (self - ongoing).filtered(lambda line: line.state == "paused").write({"deadline": False, "date_warning": False})
        if not ongoing:
            return
        values = self._fit_values(
            [line.team_id for line in ongoing],
            ongoing.mapped("date_checkpoint"),
            ongoing.mapped("worked_seconds"),
            ongoing.mapped("target_hours"),
        )
        for line, vals in zip(ongoing, values, strict=True):
            line.write(vals)

    def _pause(self, now):
        counting = self._counting()
        counting._checkpoint(now)
        counting.write({"is_paused": True})
        counting.filtered(lambda line: line.state == "ongoing").write(
            {"state": "paused", "deadline": False, "date_warning": False}
        )

    def _resume(self, now):
        paused = self.filtered(lambda line: line.is_paused and not line.date_reached)
        paused.write({"is_paused": False, "date_checkpoint": now})
        paused = paused.filtered(lambda line: line.state == "paused")
        paused.write({"state": "ongoing"})
        paused._fit()

    def _reach(self, now):
        """The metric is met now: the clock stops; a line past its target fails, a failed one stays failed."""
        pending = self.filtered(lambda line: not line.date_reached and line.state != "achieved")
        pending._checkpoint(now)
        for line in pending:
            if line.state == "failed":
                line.write({"date_reached": now, "is_paused": False})
            elif line.worked_seconds > line.target_hours * HOUR + TOLERANCE:
                line.write({"state": "failed", "date_failed": line.deadline or now, "date_reached": now})
            else:
                line.write({"state": "achieved", "date_reached": now, "date_warning": False, "is_paused": False})

    # ------------------------------------------------------------------
    # Periodic check: breaches and warnings found by their indexed dates
    # ------------------------------------------------------------------

    @api.model
    def _due_condition(self, kind, now):
        """The lines due for ``kind`` at ``now``, on the check's partial indexes.

        A line past its deadline is a breach, not a warning: the two conditions never hold for
        the same line, so that what is left is their two counts added up.
        """
        if kind == "breach":
            return SQL("state = 'ongoing' AND deadline <= %s", now)
        return SQL(
            "state = 'ongoing' AND warned IS NOT TRUE AND date_warning <= %s AND (deadline > %s OR deadline IS NULL)",
            now,
            now,
        )

    @api.model
    def _due_ids(self, kind, now, limit):
        """Lines due for ``kind`` ("breach" or "warning"), locked; lines another worker holds are skipped."""
        order = SQL("deadline") if kind == "breach" else SQL("date_warning")
        self.env.cr.execute(
            SQL(
                "SELECT id FROM support_ticket_sla WHERE %s ORDER BY %s LIMIT %s FOR UPDATE SKIP LOCKED",
                self._due_condition(kind, now),
                order,
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _due_count(self, now):
        """How many lines are still due at ``now``, breaches and warnings: one query."""
        self.env.cr.execute(
            SQL(
                "SELECT (SELECT count(*) FROM support_ticket_sla WHERE %s) + "
                "(SELECT count(*) FROM support_ticket_sla WHERE %s)",
                self._due_condition("breach", now),
                self._due_condition("warning", now),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _check_batch_size(self):
        return batch.batch_size(self.env, "support_desk.sla_check_batch_size", CHECK_BATCH)

    @api.model
    def _cron_check(self, batch_size=None, commit=True):
        """Fail the lines past their deadline (and escalate), then warn the lines near it.

        A job of the suite's pattern (``suite_batch_job``): each batch claims the due lines,
        breaches first, then warnings, and is committed with the cron's progress and what is
        still due, so that a call that runs out of time leaves the rest to the next call. The
        moment the lines are due at is the call's start, the same for every batch.

        :param batch_size: lines a batch; by default the system parameter
            ``support_desk.sla_check_batch_size`` (500)
        :param commit: ``False`` inside a caller's transaction (tests, demo data): run to the end
        :return: how many lines were handled
        """
        # Every mail the job makes (the escalation's note to the users it notifies, Odoo's "you
        # have been assigned" to the leader a ticket is reassigned to) is left to Odoo's mail
        # queue. Sent by the job after its commit, a mail raced the queue's cron, which its
        # mail.mail row wakes at once: the soak saw the queue's run fail on that concurrent update.
        self = self.with_context(mail_notify_force_send=False)  # noqa: PLW0642
        now = fields.Datetime.now()
        claimed = {}

        def claim(limit):
            # (kind, line id): a line warned in a call may still breach later in the same call
            claimed.clear()
            for kind in ("breach", "warning"):
                if len(claimed) < limit:
                    claimed.update((line_id, kind) for line_id in self._due_ids(kind, now, limit - len(claimed)))
            return [(kind, line_id) for line_id, kind in claimed.items()]

        def late(line):
            return line.state == "ongoing" and line.deadline and line.deadline <= now

        def at_risk(line):
            return line.state == "ongoing" and line.date_warning and line.date_warning <= now

        def process(keys):
            lines = self.browse([line_id for _kind, line_id in keys])
            breaches = lines.filtered(lambda line: claimed[line.id] == "breach")
            while breaches:
                breaches._breach(now)
                # an escalation that raised a priority refits the ticket's other clocks: a warning
                # of this batch past its new deadline is breached instead, as a later batch would,
                # one the new target drops is gone, one no longer at risk is left
                lines = (lines - breaches).exists()
                breaches = lines.filtered(late)
            lines.filtered(at_risk)._warn(now)

        return batch.run(
            self.env,
            "Support: SLA check",
            claim,
            process,
            lambda: self._due_count(now),
            batch_size=batch_size or self._check_batch_size(),
            commit=commit,
        )

    def _fail(self, now):
        """The deadline passed with the clock running: the line fails for good (and keeps counting)."""
        self._checkpoint(now)
        for deadline, lines in self.grouped("deadline").items():
            lines.write({"state": "failed", "date_failed": deadline or now})

    def _breach(self, now):
        """The deadline passed with the clock running: the line fails, the policy escalates."""
        self._fail(now)
        self.ticket_id._sla_escalate(self)

    def _warn(self, now):
        self.write({"warned": True})
        self.ticket_id._sla_warn(self)
