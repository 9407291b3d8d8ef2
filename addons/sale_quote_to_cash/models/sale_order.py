import functools
import logging
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tools import SQL, float_compare, format_amount, format_date, plaintext2html

from odoo.addons.suite_batch_job import batch as batch_job

from ..engine import checks as check_engine
from ..engine import matching
from ..engine.runner import Failure, Step, run_batch

_logger = logging.getLogger(__name__)

Q2C_STATES = [
    ("queued", "Queued"),
    ("blocked", "Blocked"),
    ("approval", "Waiting Approval"),
    ("to_confirm", "To Confirm"),
    ("delivering", "Delivering"),
    ("invoicing", "Invoicing"),
    ("paying", "Waiting Payment"),
    ("done", "Done"),
    ("exception", "Exception"),
]
ACCEPTANCE_CHANNELS = [
    ("portal_sign", "Signed on the Portal"),
    ("portal_pay", "Paid on the Portal"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("paper", "Signed Paper"),
    ("confirm", "Confirmed by Hand"),
]
# Automatic retries of a failed step before it waits for a person: 5 minutes, then 1 hour.
RETRY_DELAYS = (timedelta(minutes=5), timedelta(hours=1))
MAX_SAVEPOINTS = 60
FRONT_STEPS = ("check", "confirm")
# Who reads the chain's assessments: the sales team, the approvers and the accountants of the board.
Q2C_GROUPS = "sales_team.group_sale_salesman,account.group_account_invoice,sale_quote_to_cash.group_q2c_approver"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # Where the chain stands and why it waits: internal assessments (credit, margin, approvals),
    # never for the portal. All the q2c_ fields are written by this addon's server code only.
    q2c_state = fields.Selection(
        Q2C_STATES, string="Quote to Cash", copy=False, index=True, readonly=True, groups=Q2C_GROUPS
    )
    q2c_pending = fields.Boolean(
        copy=False,
        readonly=True,
        groups=Q2C_GROUPS,
        help="Queued for the next run of the quote-to-cash steps.",
    )
    q2c_next_try = fields.Datetime(copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_attempts = fields.Integer(copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_profile_id = fields.Many2one(
        "sale.q2c.profile",
        string="Workflow Profile",
        copy=False,
        check_company=True,
        groups=Q2C_GROUPS,
        help="Set at acceptance from the customer, the sales team or the company. "
        "Only a sales manager changes it, which voids an approval: the checks run again.",
    )
    q2c_accepted_on = fields.Datetime(string="Accepted On", copy=False, readonly=True)
    q2c_accepted_by = fields.Char(string="Accepted By", copy=False, readonly=True)
    q2c_acceptance_channel = fields.Selection(ACCEPTANCE_CHANNELS, string="Accepted Through", copy=False, readonly=True)
    q2c_recorded_by_id = fields.Many2one(
        "res.users", string="Recorded By", copy=False, readonly=True, groups=Q2C_GROUPS
    )
    q2c_acceptance_attachment_id = fields.Many2one(
        "ir.attachment", string="Acceptance Document", copy=False, readonly=True
    )
    q2c_blocked_reason = fields.Text(string="Why It Waits", copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_exception_step = fields.Char(copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_exception_reason = fields.Text(string="Exception", copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_approval_state = fields.Selection(
        [("requested", "Requested"), ("approved", "Approved"), ("refused", "Refused")],
        string="Approval",
        copy=False,
        readonly=True,
        groups=Q2C_GROUPS,
    )
    q2c_approved_amount = fields.Monetary(copy=False, readonly=True, groups=Q2C_GROUPS)
    q2c_approved_by_id = fields.Many2one(
        "res.users", string="Approved By", copy=False, readonly=True, groups=Q2C_GROUPS
    )
    q2c_touchless = fields.Boolean(
        string="No Manual Touch",
        copy=False,
        readonly=True,
        groups=Q2C_GROUPS,
        help="Went from acceptance to cash with no approval, exception or retry.",
    )
    q2c_sent_on = fields.Datetime(string="Quotation Sent On", copy=False, readonly=True)
    q2c_delivered_on = fields.Datetime(string="Delivered On", copy=False, readonly=True)
    q2c_invoiced_on = fields.Datetime(string="Invoiced On", copy=False, readonly=True)
    q2c_paid_on = fields.Datetime(string="Paid On", copy=False, readonly=True)
    q2c_done_on = fields.Datetime(string="Done On", copy=False, readonly=True)
    q2c_last_run = fields.Datetime(
        string="Last Chain Run",
        copy=False,
        readonly=True,
        groups=Q2C_GROUPS,
        help="When the quote-to-cash steps last ran on this order: a customer payment posted since is looked at again.",
    )
    q2c_log_ids = fields.One2many(
        "sale.q2c.log", "order_id", string="Quote-to-Cash History", readonly=True, groups=Q2C_GROUPS
    )

    _q2c_queue_idx = models.Index("(id) WHERE q2c_pending")

    # ------------------------------------------------------------------
    # CRUD and Odoo flows that start or move the chain
    # ------------------------------------------------------------------

    def _q2c_write_refused(self, field, operation):
        """The chain's fields are written by this addon's server code only, as superuser (see
        ``_q2c_write``): no client writes them, over RPC or through a form, so that nobody
        walks around the checks. Sales managers change the workflow profile."""
        if operation != "write" or self.env.su or not field.name.startswith("q2c_"):
            return False
        return field.name != "q2c_profile_id" or not self.env.user.has_group("sales_team.group_sale_manager")

    def _has_field_access(self, field, operation):
        return not self._q2c_write_refused(field, operation) and super()._has_field_access(field, operation)

    @api.model
    def _check_field_access(self, field, operation):
        if self._q2c_write_refused(field, operation):
            if field.name == "q2c_profile_id":
                raise AccessError(self.env._("Only a sales manager changes the workflow profile of an order."))
            raise AccessError(
                self.env._(
                    "%(field)s is set by quote to cash itself (its checks, its runner, its approvers), never by hand.",
                    field=field._description_string(self.env),
                )
            )
        return super()._check_field_access(field, operation)

    def write(self, vals):
        if vals.get("state") == "sent" and "q2c_sent_on" not in vals:
            self.filtered(lambda order: not order.q2c_sent_on)._q2c_write({"q2c_sent_on": fields.Datetime.now()})
        reprofiled = self.browse()
        if "q2c_profile_id" in vals:
            # sudo: which orders change profile; the write below checks the writer's rights.
            reprofiled = (
                self.sudo()
                .filtered(
                    lambda order: (
                        order.state in ("draft", "sent")
                        and order.q2c_state
                        and order.q2c_profile_id.id != (vals["q2c_profile_id"] or False)
                    )
                )
                .with_env(self.env)
            )
        res = super().write(vals)
        if reprofiled:
            reprofiled._q2c_profile_changed(requeue="q2c_state" not in vals)
        return res

    def action_confirm(self):
        """An order confirmed by hand joins the chain when its profile follows such orders.

        The runner confirms what its checks let through. Anyone else who may not approve gets
        the checks first, now: an order they hold is not confirmed, and the ``UserError`` says
        why. An approver confirms over them.
        """
        if self.env.su and self.env.context.get("q2c_runner"):
            # The runner, whose checks just ran (a client may send the context key, never be superuser).
            return super().action_confirm()
        approver = self.env.user.has_group("sale_quote_to_cash.group_q2c_approver")
        quotations = self.filtered(lambda order: order.state in ("draft", "sent"))
        held = quotations.filtered(lambda order: order.q2c_state in ("blocked", "approval"))
        if not approver:
            quotations._q2c_check_before_confirm()
        by_hand = quotations.filtered(lambda order: not order.q2c_state)
        res = super().action_confirm()
        for order in by_hand:
            profile = order._q2c_find_profile()
            if profile and profile.start_on_confirm:
                order._q2c_record_acceptance("confirm", order.partner_id.name, profile=profile, enqueue=False)
        if held:
            vals = {"q2c_state": "queued", "q2c_touchless": False}
            if approver:
                vals["q2c_approval_state"] = "approved"
                message = self.env._("Confirmed by %(user)s over the checks.", user=self.env.user.name)
            else:
                message = self.env._("Confirmed by %(user)s once its checks passed.", user=self.env.user.name)
            held._q2c_write(vals)
            held.activity_unlink(["sale_quote_to_cash.mail_activity_q2c_approval"])
            self._q2c_log_many(held, "approve" if approver else "confirm", "done", message, chatter=True)
        quotations.filtered("q2c_state")._q2c_enqueue()
        return res

    def _validate_order(self):
        """Portal signature: the chain confirms the order after its checks, not the request."""
        automated = self.filtered(lambda order: order._q2c_find_profile())
        for order in automated:
            order._q2c_record_acceptance("portal_sign", order.signed_by or order.partner_id.name)
        return super(SaleOrder, self - automated)._validate_order()

    def _q2c_confirm_now(self):
        """Check and confirm these accepted quotations in this very transaction, as the front
        cron would; return the orders confirmed.

        For the flows where Odoo confirms at once (an online payment): the profile's checks run
        now; what they let through is confirmed (``action_confirm``, with the caller's context)
        and queued for the back office (delivery, invoice, matching); what they hold stays a
        quotation, blocked or waiting for an approval, with the reason. An order that stands
        elsewhere in the chain (waiting for an approval or for a person, in exception) is only
        queued, as before.
        """
        todo = self.filtered(lambda order: order.state in ("draft", "sent") and order.q2c_state == "queued")
        (self - todo)._q2c_enqueue()
        if todo:
            # sudo: the runner's own pass, as its crons run it (as the superuser), on quotations the
            # customer accepted by paying: its check step runs the profile's checks, and only what
            # they let through reaches the confirmation step.
            todo.sudo()._q2c_process(phase="front")
        return todo.filtered(lambda order: order.state == "sale")

    # ------------------------------------------------------------------
    # Acceptance, approval, retry (what a person does)
    # ------------------------------------------------------------------

    def _q2c_find_profile(self):
        """The profile the order gets at acceptance: the customer's, the team's, the company's."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id.with_company(self.company_id)
        profile = partner.q2c_profile_id or self.team_id.q2c_profile_id
        if profile and profile.active:
            return profile
        return self.env["sale.q2c.profile"].with_company(self.company_id)._default_for(self.company_id)

    def _q2c_profile(self):
        """The profile that applies to the order: its acceptance's, else the one it would get."""
        self.ensure_one()
        return self.q2c_profile_id or self._q2c_find_profile()

    def _q2c_write(self, vals):
        """Write the chain's own fields, which every client is refused (see ``_has_field_access``)."""
        # sudo: the runner, the acceptance and the approvers' actions write them, once they
        # have checked who may do what; a client reaches none of these fields by itself.
        return self.sudo().write(vals)

    def _q2c_record_acceptance(
        self, channel, accepted_by, accepted_on=None, attachment=None, note=None, profile=None, enqueue=True
    ):
        """Record that the customer said yes and queue the order; the runner does the rest."""
        for order in self:
            if order.q2c_state and order.q2c_state not in ("blocked", "to_confirm"):
                continue  # already accepted: a second notification changes nothing
            if order.state not in ("draft", "sent", "sale"):
                raise UserError(
                    self.env._("Only a quotation can be accepted; %(order)s is cancelled.", order=order.name)
                )
            order_profile = profile or order._q2c_find_profile()
            if not order_profile:
                raise UserError(
                    self.env._(
                        "No quote-to-cash profile applies to %(order)s: give the company a profile in Sales settings.",
                        order=order.name,
                    )
                )
            when = accepted_on or fields.Datetime.now()
            order._q2c_write(
                {
                    "q2c_profile_id": order_profile.id,
                    "q2c_accepted_on": when,
                    "q2c_accepted_by": accepted_by,
                    "q2c_acceptance_channel": channel,
                    "q2c_recorded_by_id": self.env.user.id,
                    "q2c_acceptance_attachment_id": attachment.id if attachment else False,
                    "q2c_state": "queued",
                    "q2c_touchless": True,
                    "q2c_blocked_reason": False,
                }
            )
            label = dict(self._fields["q2c_acceptance_channel"]._description_selection(self.env))[channel]
            body = self.env._("Accepted by %(who)s (%(how)s).", who=accepted_by or "?", how=label)
            if note:
                body = f"{body}\n{note}"
            order.message_post(
                body=body, attachment_ids=attachment.ids if attachment else [], subtype_xmlid="mail.mt_note"
            )
            self._q2c_log_many(order, "accept", "done", body)
        if enqueue:
            self._q2c_enqueue()

    def action_q2c_accept(self):
        """Open the dialog where a salesperson records the customer's acceptance."""
        self.ensure_one()
        self.check_access("write")  # a button any client can call: for those who may change the order
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record Acceptance"),
            "res_model": "sale.q2c.accept.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id, "default_accepted_by": self.partner_id.name},
        }

    def action_q2c_approve(self):
        if not self.env.user.has_group("sale_quote_to_cash.group_q2c_approver"):
            raise AccessError(self.env._("Only a quote-to-cash approver can approve a blocked quotation."))
        waiting = self.filtered(lambda order: order.q2c_state == "approval")
        if not waiting:
            raise UserError(self.env._("None of these orders waits for an approval."))
        for order in waiting:
            order._q2c_write(
                {
                    "q2c_approval_state": "approved",
                    "q2c_approved_amount": order.amount_total,
                    "q2c_approved_by_id": self.env.user.id,
                    "q2c_state": "queued",
                    "q2c_touchless": False,
                }
            )
        waiting.activity_feedback(["sale_quote_to_cash.mail_activity_q2c_approval"])
        self._q2c_log_many(
            waiting, "approve", "done", self.env._("Approved by %(user)s.", user=self.env.user.name), chatter=True
        )
        waiting._q2c_enqueue()
        return True

    def action_q2c_refuse(self):
        if not self.env.user.has_group("sale_quote_to_cash.group_q2c_approver"):
            raise AccessError(self.env._("Only a quote-to-cash approver can refuse a blocked quotation."))
        waiting = self.filtered(lambda order: order.q2c_state == "approval")
        waiting._q2c_write({"q2c_approval_state": "refused", "q2c_state": "blocked"})
        waiting.activity_unlink(["sale_quote_to_cash.mail_activity_q2c_approval"])
        self._q2c_log_many(
            waiting, "approve", "blocked", self.env._("Refused by %(user)s.", user=self.env.user.name), chatter=True
        )
        return True

    def action_q2c_retry(self):
        """Run the chain again for blocked or failed orders, once their cause is fixed."""
        todo = self.filtered(lambda order: order.q2c_state in ("blocked", "exception", "approval"))
        if not todo:
            raise UserError(self.env._("Only blocked orders and orders in exception can be retried."))
        todo._q2c_write(
            {
                "q2c_state": "queued",
                "q2c_attempts": 0,
                "q2c_next_try": False,
                "q2c_touchless": False,
                "q2c_approval_state": False,
            }
        )
        self._q2c_log_many(todo, "retry", "done", self.env._("Retry asked by %(user)s.", user=self.env.user.name))
        todo._q2c_enqueue()
        return True

    def _q2c_profile_changed(self, requeue=True):
        """A sales manager changed the profile of these quotations: an approval given under the
        former one is void, and the checks run again under the new one."""
        self._q2c_write({"q2c_approval_state": False, "q2c_approved_amount": 0.0, "q2c_approved_by_id": False})
        self.activity_unlink(["sale_quote_to_cash.mail_activity_q2c_approval"])
        if not requeue:
            return
        again = self.filtered(lambda order: order.q2c_state in ("blocked", "approval", "to_confirm"))
        again._q2c_write({"q2c_state": "queued", "q2c_touchless": False, "q2c_attempts": 0, "q2c_next_try": False})
        for profile, orders in self.grouped("q2c_profile_id").items():
            self._q2c_log_many(
                orders,
                "retry",
                "done",
                self.env._(
                    "Workflow profile changed to %(profile)s by %(user)s: any approval is void, the checks run again.",
                    profile=profile.display_name,
                    user=self.env.user.name,
                ),
                chatter=True,
            )
        again._q2c_enqueue()

    def _q2c_check_before_confirm(self):
        """Run the checks of these quotations now, for a person who may not approve them; raise a
        ``UserError`` saying what holds them. Nothing is written."""
        profiles = {order.id: order._q2c_profile() for order in self}
        checked = self.filtered(
            lambda order: (
                order.q2c_state in ("blocked", "approval")
                or (profiles[order.id] and profiles[order.id]._q2c_has_checks())
            )
        )
        if not checked:
            return
        held = checked._q2c_hold_reasons(profiles)[0]
        if not held:
            return
        raise UserError(
            "\n\n".join(
                [
                    *(
                        self.env._(
                            "%(order)s waits on its quote-to-cash checks:\n%(reasons)s",
                            order=order.name,
                            reasons=held[order.id][1],
                        )
                        for order in checked
                        if order.id in held
                    ),
                    self.env._("Fix the cause, or ask an approver to approve it or to confirm it over the checks."),
                ]
            )
        )

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------

    def _q2c_enqueue(self):
        """Queue these orders and wake the runner (a cron trigger, not a polling interval)."""
        if not self:
            return
        self.flush_recordset(["q2c_state"])
        self.env.cr.execute(
            SQL(
                "UPDATE sale_order SET q2c_pending = TRUE"
                " WHERE id IN %s AND q2c_state IS NOT NULL AND q2c_state <> 'done'",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["q2c_pending"])
        quotations = any(order.state in ("draft", "sent") for order in self)
        self._q2c_trigger("front" if quotations else "back")

    @api.model
    def _q2c_trigger(self, phase, delay=None):
        """Wake the cron of ``phase`` ("front" or "back"), now or after ``delay``."""
        xmlid = "sale_quote_to_cash.ir_cron_q2c_confirm" if phase == "front" else "sale_quote_to_cash.ir_cron_q2c_run"
        cron = self.env.ref(xmlid, raise_if_not_found=False)
        if cron:
            # sudo: any user who may move an order may wake the runner, which runs as its own user.
            cron.sudo()._trigger(fields.Datetime.now() + delay if delay else None)

    @api.model
    def _q2c_queue_condition(self, ids=None, phase=None, exclude=()):
        """The orders a run of ``phase`` takes: queued and due now (a failed step waits for its
        ``q2c_next_try``); "front" the quotations (to check and confirm), "back" the orders.

        The condition holds until the chain has handled the order (it clears ``q2c_pending``),
        so that a call resumes where the previous one stopped and takes nothing twice.
        """
        condition = SQL("q2c_pending AND (q2c_next_try IS NULL OR q2c_next_try <= %s)", fields.Datetime.now())
        if phase == "front":
            condition = SQL("%s AND state IN ('draft', 'sent')", condition)
        elif phase == "back":
            condition = SQL("%s AND state NOT IN ('draft', 'sent')", condition)
        if ids:
            condition = SQL("%s AND id IN %s", condition, tuple(ids))
        if exclude:
            condition = SQL("%s AND id NOT IN %s", condition, tuple(exclude))
        return condition

    @api.model
    def _q2c_claim(self, limit, ids=None, phase=None, exclude=()):
        """Queued orders due now (see ``_q2c_queue_condition``), oldest first, locked; the rows
        another server holds are skipped."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM sale_order WHERE %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                self._q2c_queue_condition(ids, phase, exclude),
                limit,
            )
        )
        return self.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _q2c_count_due(self, ids=None, phase=None):
        """How many orders of ``phase`` are still queued and due: the ``remaining`` of a cron call."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT count(*) FROM sale_order WHERE %s", self._q2c_queue_condition(ids, phase)))
        return self.env.cr.fetchone()[0]

    @api.model
    def _q2c_batch_size(self):
        return batch_job.batch_size(self.env, "sale_quote_to_cash.batch_size", 20, maximum=500)

    @api.model
    def _q2c_run(self, batch_size=None, commit=True, ids=None, phase=None):
        """Take the queued orders batch after batch; return how many were handled.

        Two crons share the work so that a customer's yes becomes a confirmed order at once
        while the back office of earlier orders is still running: the "front" one checks and
        confirms quotations, the "back" one delivers, invoices, matches and locks. Without
        ``phase`` both run, front first (tests, "Run Now", the demo data).

        Each phase is a job of the suite's batch pattern (``suite_batch_job.batch.run``): claim
        a batch, run the chain on it, report ``_commit_progress`` with the orders of the phase
        still queued and due, which commits, until none is left or the cron's budget is spent:
        Odoo then calls the job again, and the next call resumes with what is left. A write
        conflict with another server rolls the batch back and claims it again; after a few in
        a row the call gives way, reporting nothing done and what is left: Odoo ends the run as
        partially done and starts a new one at once, after the other jobs due (no delayed
        trigger needed, the random pauses between the attempts already spread them).
        ``commit=False`` runs in the caller's transaction (tests, a button): nothing is
        committed and the budget does not apply.
        """
        batch_size = batch_size or self._q2c_batch_size()
        return sum(
            self._q2c_run_phase(current, batch_size, commit, ids)
            for current in ((phase,) if phase else ("front", "back"))
        )

    @api.model
    def _q2c_run_phase(self, phase, batch_size, commit, ids=None):
        """Run ``phase`` through ``batch.run``; how many orders it handled.

        An order the batch *defers* was not reached: ``run_batch`` ran out of savepoints for
        the transaction before it (see ``engine/runner.py``). It is untouched and stays queued
        for a transaction of its own. The rest of the call keeps it out of its claims
        (``batch.run`` refuses an order claimed twice in a call) while counting it in what
        remains; with ``commit``, a new round takes the deferred orders in new transactions when
        the budget allows, else Odoo's next call does. Without ``commit`` (one transaction) they
        stay queued for the next run, as before.
        """
        handled = 0
        while True:
            done, deferred = self._q2c_run_round(phase, batch_size, commit, ids)
            handled += done
            if not (commit and deferred):
                return handled
            if batch_job.time_left(self.env) <= 0:
                # batch.run says nothing is left when its last claim finds nothing (what matches is
                # another server's); the deferred orders are this call's and still queued.
                self.env["ir.cron"]._commit_progress(0, remaining=self._q2c_count_due(ids, phase))
                return handled

    @api.model
    def _q2c_run_round(self, phase, batch_size, commit, ids):
        """One ``batch.run`` of ``phase``: ``(orders handled, ids deferred)``."""
        deferred = set()
        handled = [0]

        def claim(limit):
            return self._q2c_claim(limit, ids=ids, phase=phase, exclude=deferred).ids

        def process(order_ids):
            result = self.browse(order_ids)._q2c_process(phase=phase)
            self.env.flush_all()  # a write conflict shows here, before the batch is counted
            deferred.update(result.deferred)
            handled[0] += len(order_ids) - len(result.deferred)

        def left():
            return self._q2c_count_due(ids, phase)

        # heavy: a batch of the chain takes seconds (20 orders of 5 lines: about 2 s to check and
        # confirm, 6 s for the back office on 2 cores), up to 500 orders by the settings. Ten calls
        # in a row could outlast the cron worker's time limit (limit_time_real, 120 s for the
        # whole pass of the database): once a call has spent the run's budget, the run hands the
        # rest to a new run, which Odoo starts at once after the other jobs due.
        batch_job.run(
            self.env,
            f"Quote to cash ({phase})",
            claim,
            process,
            left,
            batch_size=batch_size,
            commit=commit,
            heavy=True,
        )
        return handled[0], deferred

    @api.model
    def _q2c_cron(self, commit=True):
        """The back cron: wake what waits on documents no hook reported, then run the back phase.

        :param commit: ``False`` inside a caller's transaction (tests): nothing committed
        """
        try:
            with self.env.cr.savepoint():
                self._q2c_wake()
        except batch_job.CONFLICTS as error:
            # Another transaction wrote one of these orders meanwhile (a payment queued it): the
            # wake is a catch-up, the next call's does it again.
            _logger.info("Quote to cash: the wake met a write conflict (%s), left to the next call", error.pgcode)
        if commit:
            # Committed apart, so that the first claim starts a transaction of its own: in a
            # snapshot taken before the wake, a row another server committed since would refuse its lock.
            # What the wake queued is what this call has to do: said now, so that a crash before the
            # first batch still leaves Odoo a count to call the job again for.
            self.env["ir.cron"]._commit_progress(0, remaining=self._q2c_count_due(phase="back"))
        return self._q2c_run(phase="back", commit=commit)

    @api.model
    def _q2c_wake(self):
        """Queue the orders that wait on something no hook reported: a delivery ready (stock
        reserved later), a failed step whose automatic retry is due, an order waiting for its
        payment whose invoices got paid outside the chain, or for which a customer payment was
        posted since the chain last ran it (the hook, ``_q2c_on_payments_posted``, is the way a
        payment normally wakes it; this is the catch-up)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_order so SET q2c_pending = TRUE
                  FROM sale_q2c_profile p
                 WHERE so.q2c_profile_id = p.id AND NOT so.q2c_pending
                   AND so.q2c_state = 'delivering' AND p.auto_deliver
                   AND EXISTS (SELECT 1 FROM stock_picking sp
                                WHERE sp.sale_id = so.id AND sp.state = 'assigned')
                """
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE sale_order SET q2c_pending = TRUE WHERE q2c_state = 'exception' AND NOT q2c_pending"
                " AND q2c_next_try IS NOT NULL AND q2c_next_try <= %s",
                fields.Datetime.now(),
            )
        )
        invoices = SQL(
            """
            SELECT am.id, am.state, am.move_type, am.payment_state, am.commercial_partner_id
              FROM sale_order_line sol
              JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              JOIN account_move_line aml ON aml.id = rel.invoice_line_id
              JOIN account_move am ON am.id = aml.move_id
             WHERE sol.order_id = so.id
            """
        )
        # Paid without the chain hearing of it (a payment without journal entry linked to the
        # invoice, a reconciliation no hook reported): the order is done, the lock step is due.
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_order so SET q2c_pending = TRUE
                 WHERE so.q2c_state = 'paying' AND NOT so.q2c_pending
                   AND NOT EXISTS (
                        SELECT 1 FROM (%s) inv
                         WHERE (inv.state = 'draft' AND inv.move_type IN ('out_invoice', 'out_refund'))
                            OR (inv.state = 'posted' AND inv.move_type = 'out_invoice'
                                AND inv.payment_state NOT IN ('paid', 'in_payment', 'reversed')))
                """,
                invoices,
            )
        )
        # A payment of the customer, open, posted since the chain last ran the order: the pay
        # step decides whether it is meant for the order (as its search, see _q2c_step_pay).
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_order so SET q2c_pending = TRUE
                  FROM sale_q2c_profile p
                 WHERE so.q2c_profile_id = p.id AND p.auto_match
                   AND so.q2c_state = 'paying' AND NOT so.q2c_pending
                   AND EXISTS (
                        SELECT 1 FROM (%s) inv
                          JOIN account_payment pay ON pay.partner_id = inv.commercial_partner_id
                         WHERE inv.state = 'posted' AND inv.move_type = 'out_invoice'
                           AND inv.payment_state IN ('not_paid', 'partial')
                           AND pay.company_id = so.company_id AND pay.payment_type = 'inbound'
                           AND pay.state IN ('in_process', 'paid')
                           AND (so.q2c_last_run IS NULL OR pay.write_date >= so.q2c_last_run)
                           AND (
                                (pay.move_id IS NULL AND NOT EXISTS (
                                    SELECT 1 FROM account_move__account_payment link WHERE link.payment_id = pay.id))
                                OR EXISTS (
                                    SELECT 1 FROM account_move_line pl
                                      JOIN account_account acc ON acc.id = pl.account_id
                                     WHERE pl.move_id = pay.move_id AND acc.account_type = 'asset_receivable'
                                       AND pl.reconciled IS NOT TRUE)))
                """,
                invoices,
            )
        )
        self.invalidate_model(["q2c_pending"])

    @api.model
    def _q2c_on_payments_posted(self, payments):
        """Customer payments were posted: the confirmed orders of those customers still in the
        chain are queued (a trigger wakes the back cron), so that the chain matches what is meant
        for them, or sees their invoice paid, at once.

        Every order of those customers still in the chain is *written*, queued or not: the write
        is what makes a run of the chain that cannot see this payment yet (its transaction began
        before the payment was committed) meet it. Whichever commits second gets a serialization
        failure and is run again on a fresh snapshot (Odoo retries the request, the batch runner
        claims the batch again), so that either the run sees the payment or the payment's
        transaction sees the order waiting for it. Queuing only the orders that wait for a
        payment in this transaction's snapshot, as a search would, misses the order a concurrent
        run is moving to "waiting for payment": nothing would wake it again (seen once in an
        hour-long soak). Quotations, orders waiting for approval and orders in exception are
        written but not queued: a payment does not move them (their own step or a person does).
        """
        customers = payments.partner_id.commercial_partner_id
        if not customers:
            return
        # sudo: whoever posts the payment (an accountant, a payment provider's notification)
        # queues the orders of that customer without reading them; the runner decides what the
        # payment pays, and only queued orders come out of it.
        orders = self.sudo().search(
            [
                ("q2c_state", "not in", (False, "done")),
                ("company_id", "in", payments.company_id.ids),
                ("partner_id.commercial_partner_id", "in", customers.ids),
            ],
            order="id",
        )
        if not orders:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_order so
                   SET q2c_pending = so.q2c_pending OR (so.state = 'sale' AND so.q2c_state <> 'exception')
                  FROM (SELECT id FROM sale_order WHERE id IN %s ORDER BY id FOR NO KEY UPDATE) locked
                 WHERE so.id = locked.id AND so.q2c_state IS NOT NULL AND so.q2c_state <> 'done'
             RETURNING so.id, so.q2c_pending
                """,
                tuple(orders.ids),
            )
        )
        queued = [oid for oid, pending in self.env.cr.fetchall() if pending]
        orders.invalidate_recordset(["q2c_pending"])
        if queued:
            self._q2c_trigger("back")

    # ------------------------------------------------------------------
    # Runner: one batch
    # ------------------------------------------------------------------

    def _q2c_steps(self):
        """The chain, in order, as ``(name, message when done)``.

        Each name has ``_q2c_select_<name>(ids, cache)`` (the orders that need it now, read from
        their documents) and ``_q2c_step_<name>(ids, cache)`` (do it for all of them at once,
        return ``{id: message}``). Bridges may add steps here (hook).
        """
        return [
            ("check", ""),
            ("confirm", self.env._("Order confirmed.")),
            ("won", ""),
            ("deliver", ""),
            ("invoice", ""),
            ("send", self.env._("Invoice sent by email.")),
            ("pay", ""),
            ("lock", self.env._("Delivered, invoiced and paid: order locked.")),
        ]

    def _q2c_process(self, phase=None):
        """Run the chain (or its front steps) on this claimed batch and record what each order went through."""
        runner = self.with_context(q2c_runner=True, mail_notrack=True)
        cache = {"blocked": {}, "waiting": {}}
        steps = [
            Step(
                name,
                functools.partial(getattr(runner, f"_q2c_select_{name}"), cache=cache),
                functools.partial(getattr(runner, f"_q2c_step_{name}"), cache=cache),
                done_message,
            )
            for name, done_message in runner._q2c_steps()
            if phase != "front" or name in FRONT_STEPS
        ]
        result = run_batch(
            self.ids,
            steps,
            savepoint=self.env.cr.savepoint,
            describe_error=self._q2c_describe_error,
            max_savepoints=MAX_SAVEPOINTS,
        )
        self._q2c_record(result, cache)
        if phase == "front":
            # Confirmed now: queued again for the back office, whose cron the trigger wakes.
            self.filtered(lambda order: order.state == "sale" and order.q2c_state != "exception")._q2c_enqueue()
        return result

    @api.model
    def _q2c_describe_error(self, error):
        """The words written on the order for a failed step; ``None`` for what must abort the batch."""
        if isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)):
            return None  # serialization failure, deadlock, lost connection: the transaction goes back whole
        if isinstance(error, psycopg2.Error):
            # A constraint of the database refused this order's data: the order's own problem.
            detail = error.diag.message_primary if error.diag else str(error)
            return self.env._("The database refused the data: %(detail)s", detail=detail)
        if isinstance(error, (UserError, ValidationError, AccessError, MissingError)):
            return str(error.args[0]) if error.args else str(error)
        _logger.exception("Quote to cash: unexpected error")
        return self.env._("Unexpected error: %(error)s", error=repr(error))

    def _q2c_record(self, result, cache):
        now = fields.Datetime.now()
        orders = self.browse(o for o in self.ids if o not in set(result.deferred)).exists()
        logs = [
            {"order_id": o.order_id, "step": o.step, "result": o.result, "message": o.message, "date": now}
            for o in result.outcomes
            if o.message
        ]
        waiting = cache["waiting"]
        logs += [
            {"order_id": oid, "step": step, "result": kind, "message": message, "date": now}
            for oid, (step, kind, message) in waiting.items()
        ]
        self.env["sale.q2c.log"].sudo().create(logs)  # sudo: the runner writes its own history

        failed = self.browse(list(result.failed)) & orders
        for order in failed:
            step, reason = result.failed[order.id]
            attempts = order.q2c_attempts + 1
            delay = RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None
            order._q2c_write(
                {
                    "q2c_state": "exception",
                    "q2c_exception_step": step,
                    "q2c_exception_reason": reason,
                    "q2c_attempts": attempts,
                    "q2c_next_try": now + delay if delay else False,
                    "q2c_touchless": False,
                    "q2c_pending": False,
                }
            )
        labels = dict(self.env["sale.q2c.log"]._fields["step"]._description_selection(self.env))
        bodies = {
            oid: self.env._("Quote to cash, %(step)s failed: %(reason)s", step=labels.get(step, step), reason=reason)
            for oid, (step, reason) in result.failed.items()
        }
        if bodies:
            failed._message_log_batch(bodies={oid: bodies[oid] for oid in failed.ids})
        notes = defaultdict(list)
        for outcome in result.outcomes:
            if outcome.result == "done" and outcome.message and outcome.step != "check":
                notes[outcome.order_id].append(outcome.message)
        for oid, (_step, _kind, message) in waiting.items():
            notes[oid].append(message)
        rest = orders - failed
        if notes:
            logged = rest.filtered(lambda order: order.id in notes)
            logged._message_log_batch(bodies={oid: "\n".join(notes[oid]) for oid in logged.ids})
        rest._q2c_update_state(now, blocked=cache["blocked"])

    def _q2c_update_state(self, now, blocked=None):
        """Where each order stands now, read from its documents; stamps the cycle dates."""
        blocked = blocked or {}
        # what this transaction could see: a payment posted in a later one is looked at again (_q2c_wake)
        last_run = self.env.cr.now()
        for state_key, orders in self.grouped(lambda o: o._q2c_state_from_documents(blocked)).items():
            vals = {
                "q2c_state": state_key,
                "q2c_pending": False,
                "q2c_last_run": last_run,
                "q2c_exception_step": False,
                "q2c_exception_reason": False,
                "q2c_attempts": 0,
                "q2c_next_try": False,
            }
            if state_key not in ("blocked", "approval"):
                vals["q2c_blocked_reason"] = False
            orders._q2c_write(vals)
            for stamp, reached in (
                ("q2c_delivered_on", ("invoicing", "paying", "done")),
                ("q2c_invoiced_on", ("paying", "done")),
                ("q2c_paid_on", ("done",)),
                ("q2c_done_on", ("done",)),
            ):
                if state_key in reached:
                    orders.filtered(lambda o, s=stamp: not o[s])._q2c_write({stamp: now})
        for reason, orders in self.filtered(lambda o: o.id in blocked).grouped(lambda o: blocked[o.id][1]).items():
            orders._q2c_write({"q2c_blocked_reason": reason})

    def _q2c_state_from_documents(self, blocked):
        self.ensure_one()
        if self.id in blocked:
            return blocked[self.id][0]
        if self.state in ("draft", "sent"):
            if self.q2c_state in ("blocked", "approval"):
                return self.q2c_state
            return "to_confirm"
        if self.state == "cancel":
            return "blocked"
        if self._q2c_waits_for_delivery():
            return "delivering"
        if self.invoice_status == "to invoice" and not self._q2c_has_credit_note():
            return "invoicing"
        invoices = self.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
        if self.invoice_status != "invoiced" and not invoices:
            return "invoicing"
        if any(inv.payment_state not in ("paid", "in_payment", "reversed") for inv in invoices) or any(
            m.state == "draft" for m in self.invoice_ids
        ):
            return "paying"
        return "done"

    def _q2c_waits_for_delivery(self):
        pickings = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        return any(p.state not in ("done", "cancel") for p in pickings)

    def _q2c_has_credit_note(self):
        return any(m.move_type == "out_refund" and m.state != "cancel" for m in self.invoice_ids)

    def _q2c_log_many(self, orders, step, result, message, chatter=False):
        # sudo: the history is written by the people and the runner who move the order, never edited.
        self.env["sale.q2c.log"].sudo().create(
            [{"order_id": order.id, "step": step, "result": result, "message": message} for order in orders]
        )
        if chatter and orders:
            orders._message_log_batch(bodies=dict.fromkeys(orders.ids, message))

    @api.model
    def _q2c_wait(self, cache, order, step, kind, message):
        cache["waiting"][order.id] = (step, kind, message)

    # ------------------------------------------------------------------
    # Steps. select(ids) -> ids that need the step; run(ids) -> {id: message}
    # ------------------------------------------------------------------

    def _q2c_batch(self, ids):
        return self.browse(ids)

    # --- checks ---------------------------------------------------------

    def _q2c_select_check(self, ids, cache):
        return self._q2c_batch(ids).filtered(lambda o: o.state in ("draft", "sent")).ids

    def _q2c_step_check(self, ids, cache):
        orders = self._q2c_batch(ids)
        held, findings = orders._q2c_hold_reasons()
        blocked = cache["blocked"]
        messages = {}
        for order in orders:
            if order.id not in held:
                checked = findings.get(order.id) or (order.q2c_profile_id and order.q2c_profile_id._q2c_has_checks())
                messages[order.id] = self.env._("Checks passed.") if checked else ""
                continue
            state, text = blocked[order.id] = held[order.id]
            if state == "blocked":
                self._q2c_wait(cache, order, "check", "blocked", self.env._("Blocked:\n%(reasons)s", reasons=text))
            else:
                order._q2c_request_approval(text)
                self._q2c_wait(
                    cache,
                    order,
                    "check",
                    "waiting",
                    self.env._("Waiting for a manager's approval:\n%(reasons)s", reasons=text),
                )
        return messages

    def _q2c_hold_reasons(self, profiles=None):
        """What holds these quotations before confirmation, set-based: ``(held, findings)``, with
        ``held`` ``{order id: ("blocked" or "approval", reasons)}``.

        ``profiles`` (``{order id: profile}``) stands in for the orders' own, for the quotations
        not accepted yet.
        """
        profiles = profiles or {order.id: order.q2c_profile_id for order in self}
        findings = self._q2c_findings(profiles)
        held = {}
        for order in self:
            problems = findings.get(order.id, [])
            approved = (
                order.q2c_approval_state == "approved"
                and float_compare(
                    order.q2c_approved_amount, order.amount_total, precision_rounding=order.currency_id.rounding
                )
                == 0
            )
            blocking = [f for f in problems if f.mode == check_engine.BLOCK]
            asking = [f for f in problems if f.mode == check_engine.APPROVAL and not approved]
            if blocking or asking:
                text = "\n".join(f"• {f.message} {f.hint}" for f in blocking + asking)
                held[order.id] = ("blocked" if blocking else "approval", text)
        return held, findings

    def _q2c_request_approval(self, text):
        self.ensure_one()
        self._q2c_write({"q2c_approval_state": "requested"})
        approver = self.team_id.user_id
        if not approver or not approver.has_group("sale_quote_to_cash.group_q2c_approver"):
            approver = self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        self.activity_schedule(
            "sale_quote_to_cash.mail_activity_q2c_approval",
            note=text,
            user_id=approver.id,
        )

    def _q2c_findings(self, profiles):
        """``{order id: [Finding]}`` for the checks each order's profile in ``profiles`` runs (set-based)."""
        findings = defaultdict(list)
        today = fields.Date.context_today(self)
        for order in self:
            if order.validity_date and order.validity_date < today:
                findings[order.id].append(
                    check_engine.Finding(
                        "expired",
                        check_engine.BLOCK,
                        self.env._(
                            "The quotation expired on %(date)s.", date=format_date(self.env, order.validity_date)
                        ),
                        self.env._("Update its prices and expiration date, then record the acceptance again."),
                    )
                )
        by_check = defaultdict(lambda: self.browse())
        for order in self.filtered(lambda o: profiles[o.id]):
            profile = profiles[order.id]
            for check in ("credit", "stock", "margin", "discount"):
                if profile[f"{check}_check"] != "off":
                    by_check[check] |= order
        for check, orders in by_check.items():
            for oid, found in getattr(orders, f"_q2c_check_{check}")(profiles).items():
                findings[oid].extend(found)
        return findings

    def _q2c_check_credit(self, profiles):
        result = {}
        # sudo: the receivable and the limit are accounting figures a salesperson may not read;
        # only the words of the finding reach them.
        today = fields.Date.context_today(self)
        for company, orders in self.grouped("company_id").items():
            partners = orders.partner_id.commercial_partner_id.sudo().with_company(company)
            default = company.account_default_credit_limit if company.account_use_credit_limit else 0.0
            limits = {p.id: p.credit_limit if p.use_partner_credit_limit else default for p in partners}
            limited = partners.filtered(lambda p, lim=limits: lim[p.id] > 0)
            if not limited:
                continue  # nobody has a limit: nothing to add up
            self.env.flush_all()
            limited.invalidate_recordset(["credit"])
            receivable = {p.id: p.credit for p in limited}
            open_orders = orders._q2c_open_order_amounts(company, limited)
            for order in orders.filtered(lambda o, lim=limited: o.partner_id.commercial_partner_id in lim):
                # sudo: the customer's receivable, read for the check; only the finding is shown
                partner = order.partner_id.commercial_partner_id.sudo().with_company(company)
                limit = limits[partner.id]
                mode = profiles[order.id].credit_check
                amount = order.currency_id._convert(order.amount_total, company.currency_id, company, today)
                over = check_engine.credit_exceeded(
                    limit, receivable.get(partner.id, 0.0), open_orders[partner.id], amount
                )
                if over > 0:
                    currency = company.currency_id
                    result[order.id] = [
                        check_engine.Finding(
                            "credit",
                            mode,
                            self.env._(
                                "%(customer)s would owe %(total)s with this order, "
                                "%(over)s over the credit limit of %(limit)s.",
                                customer=partner.name,
                                total=format_amount(
                                    self.env,
                                    receivable.get(partner.id, 0.0) + open_orders[partner.id] + amount,
                                    currency,
                                ),
                                over=format_amount(self.env, over, currency),
                                limit=format_amount(self.env, limit, currency),
                            ),
                            self.env._(
                                "A payment of the open invoices, a higher limit or a manager's approval unblocks it."
                            ),
                        )
                    ]
        return result

    def _q2c_open_order_amounts(self, company, partners):
        """What the confirmed orders of ``partners`` still have to invoice, taxes included, in the
        company's currency: one grouped query (the lines' stored untaxed amounts, grossed up by
        each line's own tax ratio)."""
        self.env["sale.order.line"].flush_model(["untaxed_amount_to_invoice", "price_total", "price_subtotal"])
        self.env["sale.order"].flush_model(["state", "company_id", "partner_id", "currency_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id, so.currency_id,
                       SUM(sol.untaxed_amount_to_invoice
                           * CASE WHEN sol.price_subtotal <> 0 THEN sol.price_total / sol.price_subtotal ELSE 1 END)
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND so.company_id = %(company)s
                   AND p.commercial_partner_id IN %(partners)s
                   AND sol.untaxed_amount_to_invoice > 0
              GROUP BY 1, 2
                """,
                company=company.id,
                partners=tuple(partners.ids),
            )
        )
        today = fields.Date.context_today(self)
        amounts = defaultdict(float)
        for partner_id, currency_id, amount in self.env.cr.fetchall():
            currency = self.env["res.currency"].browse(currency_id)
            amounts[partner_id] += currency._convert(amount, company.currency_id, company, today)
        return amounts

    def _q2c_check_stock(self, profiles):
        demands = []
        keys = defaultdict(set)
        for order in self.sorted(lambda o: (o.q2c_accepted_on or o.create_date, o.id)):
            when = order.commitment_date or order.expected_date or fields.Datetime.now()
            for line in order.order_line:
                product = line.product_id
                if not product.is_storable or line.display_type:
                    continue
                qty = line.product_uom_id._compute_quantity(line.product_uom_qty, product.uom_id)
                key = (order.warehouse_id.id, fields.Date.to_date(when), product.id)
                keys[key[:2]].add(product.id)
                demands.append((order.id, key, qty))
        available = {}
        today = fields.Date.context_today(self)
        for (warehouse_id, day), product_ids in keys.items():
            context = {"warehouse_id": warehouse_id}
            if day > today:
                # Forecast at the end of that day; today and before: what is there and coming.
                context["to_date"] = datetime.combine(day, datetime.max.time())
            products = self.env["product.product"].browse(product_ids).with_context(**context)
            for product in products:
                available[(warehouse_id, day, product.id)] = product.virtual_available
        result = {}
        for oid, shortages in check_engine.allocate(demands, available).items():
            order = self.browse(oid)
            words = []
            for (_wh, day, product_id), wanted, free in shortages:
                product = self.env["product.product"].browse(product_id)
                words.append(
                    self.env._(
                        "%(product)s: %(wanted)s %(uom)s ordered, %(free)s forecast in %(warehouse)s on %(date)s.",
                        product=product.display_name,
                        wanted=f"{wanted:g}",
                        free=f"{free:g}",
                        uom=product.uom_id.name,
                        warehouse=order.warehouse_id.name,
                        date=format_date(self.env, day),
                    )
                )
            result[oid] = [
                check_engine.Finding(
                    "stock",
                    profiles[oid].stock_check,
                    self.env._("Not enough stock: %(lines)s", lines=" ".join(words)),
                    self.env._("Receiving stock, a smaller quantity or a later delivery date unblocks it."),
                )
            ]
        return result

    def _q2c_check_margin(self, profiles):
        result = {}
        for order in self:
            revenue = sum(
                line.price_subtotal for line in order.order_line if not line.display_type and not line.is_downpayment
            )
            cost = sum(
                order.company_id.currency_id._convert(
                    line.product_id.standard_price
                    * line.product_uom_id._compute_quantity(line.product_uom_qty, line.product_id.uom_id),
                    order.currency_id,
                    order.company_id,
                    fields.Date.context_today(self),
                )
                for line in order.order_line
                if line.product_id and not line.display_type and not line.is_downpayment
            )
            margin = check_engine.margin_percent(revenue, cost)
            profile = profiles[order.id]
            if margin is not None and margin < profile.min_margin:
                result[order.id] = [
                    check_engine.Finding(
                        "margin",
                        profile.margin_check,
                        self.env._(
                            "The margin is %(margin).1f%%, under the minimum of %(minimum).1f%%.",
                            margin=margin,
                            minimum=profile.min_margin,
                        ),
                        self.env._("Higher prices, smaller discounts or a manager's approval unblock it."),
                    )
                ]
        return result

    def _q2c_check_discount(self, profiles):
        result = {}
        for order in self:
            profile = profiles[order.id]
            over = order.order_line.filtered(lambda line, p=profile: line.discount > p.max_discount + 1e-9)
            if over:
                result[order.id] = [
                    check_engine.Finding(
                        "discount",
                        profile.discount_check,
                        self.env._(
                            "A discount of %(discount)g%% on %(product)s is over the maximum of %(maximum)g%%.",
                            discount=max(over.mapped("discount")),
                            product=over[0].product_id.display_name or over[0].name,
                            maximum=profile.max_discount,
                        ),
                        self.env._("A smaller discount or a manager's approval unblocks it."),
                    )
                ]
        return result

    # --- confirmation and opportunity ----------------------------------------

    def _q2c_select_confirm(self, ids, cache):
        blocked = cache["blocked"]
        return (
            self._q2c_batch(ids)
            .filtered(lambda o: o.state in ("draft", "sent") and o.id not in blocked and o.q2c_profile_id.auto_confirm)
            .ids
        )

    def _q2c_step_confirm(self, ids, cache):
        """Confirm; the stock of orders the runner delivers is reserved by the delivery step,
        seconds later in the back cron (the only one then that writes quants)."""
        # sudo: the runner confirms what its checks let through this very batch (the cron's user
        # is the superuser); action_confirm() runs the checks again for anyone else.
        orders = self._q2c_batch(ids).sudo()
        delivered = orders.filtered(lambda o: o.q2c_profile_id.auto_deliver)
        if delivered:
            delivered.with_context(q2c_defer_reservation=True).action_confirm()
        if orders - delivered:
            (orders - delivered).action_confirm()
        return {}

    def _q2c_select_won(self, ids, cache):
        return (
            self._q2c_batch(ids)
            .filtered(
                lambda o: (
                    o.state == "sale"
                    and o.q2c_profile_id.mark_won
                    and o.opportunity_id
                    and o.opportunity_id.active
                    and not o.opportunity_id.stage_id.is_won
                )
            )
            .ids
        )

    def _q2c_step_won(self, ids, cache):
        orders = self._q2c_batch(ids)
        messages = {}
        today = fields.Date.context_today(self)
        for lead, lead_orders in orders.grouped("opportunity_id").items():
            revenue = sum(
                o.currency_id._convert(
                    o.amount_untaxed, lead.company_currency or o.company_id.currency_id, o.company_id, today
                )
                for o in lead_orders
            )
            lead.write({"expected_revenue": revenue})
            for order in lead_orders:
                messages[order.id] = self.env._("Opportunity %(lead)s marked won.", lead=lead.name)
        orders.opportunity_id.action_set_won()
        return messages

    # --- delivery --------------------------------------------------------------

    def _q2c_pickings_open(self):
        return self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state in ("confirmed", "waiting", "assigned")
        )

    def _q2c_select_deliver(self, ids, cache):
        return (
            self._q2c_batch(ids)
            .filtered(lambda o: o.state == "sale" and o.q2c_profile_id.auto_deliver and o._q2c_pickings_open())
            .ids
        )

    def _q2c_step_deliver(self, ids, cache):
        """Reserve what was not reserved at confirmation (stock held by another transaction then,
        or received since), then validate the reserved part; the rest goes to a backorder."""
        orders = self._q2c_batch(ids)
        pickings = orders._q2c_pickings_open()
        # A picking is "assigned" as soon as one move is (its consumables): look at the moves.
        if unreserved := pickings.filtered(
            lambda p: any(m.state in ("confirmed", "waiting", "partially_available") for m in p.move_ids)
        ):
            unreserved.action_assign()
        pickings = pickings.filtered(lambda p: p.state == "assigned")
        if not pickings:
            return {}
        pickings.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel") and m.quantity and not m.picked
        ).picked = True
        pickings.with_context(skip_backorder=True, picking_ids_not_to_backorder=[], skip_sms=True).button_validate()
        messages = {}
        for order in orders.filtered(lambda o: o.picking_ids & pickings):
            done = pickings.filtered(lambda p, o=order: p.sale_id == o)
            backorders = order.picking_ids.filtered(
                lambda p, d=done: p.backorder_id in d and p.state not in ("done", "cancel")
            )
            if backorders:
                messages[order.id] = self.env._(
                    "Delivered %(pickings)s; the rest waits in backorder %(backorders)s.",
                    pickings=", ".join(done.mapped("name")),
                    backorders=", ".join(backorders.mapped("name")),
                )
            else:
                messages[order.id] = self.env._("Delivered %(pickings)s.", pickings=", ".join(done.mapped("name")))
        return messages

    # --- invoice ---------------------------------------------------------------

    def _q2c_select_invoice(self, ids, cache):
        orders = self._q2c_batch(ids).filtered(lambda o: o.state == "sale" and o.q2c_profile_id.auto_invoice)
        todo = self.browse()
        for order in orders:
            drafts = order.invoice_ids.filtered(lambda m: m.state == "draft")
            if order._q2c_has_credit_note():
                if order.invoice_status == "to invoice":
                    self._q2c_wait(
                        cache,
                        order,
                        "invoice",
                        "waiting",
                        self.env._("A credit note was issued for this order: the next invoice is left to a person."),
                    )
                continue
            if order.invoice_status == "to invoice" or (drafts and order.q2c_profile_id.auto_post):
                todo |= order
        return todo.ids

    def _q2c_step_invoice(self, ids, cache):
        """Create the invoice of what can be invoiced now and post it in the same savepoint.

        Creating and posting go back together: a failure leaves no draft behind.
        """
        orders = self._q2c_batch(ids)
        to_invoice = orders.filtered(lambda o: o.invoice_status == "to invoice")
        moves = self.env["account.move"]
        if to_invoice:
            moves = to_invoice.with_context(raise_if_nothing_to_invoice=False)._create_invoices(
                grouped=True, final=True
            )
        drafts = orders.invoice_ids.filtered(lambda m: m.state == "draft")
        to_post = (moves | drafts).filtered(
            lambda m: m.invoice_line_ids.sale_line_ids.order_id.q2c_profile_id.auto_post
        )
        if to_post:
            to_post.action_post()
        messages = {}
        for order in orders:
            order_moves = (moves | drafts).filtered(lambda m, o=order: o in m.invoice_line_ids.sale_line_ids.order_id)
            if not order_moves:
                continue
            names = ", ".join(order_moves.mapped(lambda m: m.name if m.state == "posted" else m.display_name))
            if order_moves & to_post:
                messages[order.id] = self.env._("Invoice %(invoices)s created and posted.", invoices=names)
            else:
                messages[order.id] = self.env._("Draft invoice %(invoices)s created.", invoices=names)
        return messages

    # --- sending ---------------------------------------------------------------

    def _q2c_invoices_to_send(self):
        return self.invoice_ids.filtered(
            lambda m: (
                m.state == "posted"
                and m.move_type == "out_invoice"
                and not m.is_move_sent
                and m.invoice_line_ids.sale_line_ids.order_id.q2c_profile_id.auto_send
            )
        )

    def _q2c_select_send(self, ids, cache):
        return self._q2c_batch(ids).filtered(lambda o: o.q2c_profile_id.auto_send and o._q2c_invoices_to_send()).ids

    def _q2c_step_send(self, ids, cache):
        orders = self._q2c_batch(ids)
        invoices = orders._q2c_invoices_to_send()
        self.env["account.move.send"]._generate_and_send_invoices(
            invoices, allow_raising=True, sending_methods=["email"]
        )
        unsent = invoices.filtered(lambda m: not m.is_move_sent)
        if unsent:
            raise UserError(
                self.env._("Invoice %(invoices)s could not be sent.", invoices=", ".join(unsent.mapped("name")))
            )
        return {}

    # --- payment ---------------------------------------------------------------

    def _q2c_open_invoices(self):
        return self.invoice_ids.filtered(
            lambda m: (
                m.state == "posted" and m.move_type == "out_invoice" and m.payment_state in ("not_paid", "partial")
            )
        )

    def _q2c_select_pay(self, ids, cache):
        return self._q2c_batch(ids).filtered(lambda o: o.q2c_profile_id.auto_match and o._q2c_open_invoices()).ids

    def _q2c_step_pay(self, ids, cache):
        """Match each open invoice with the customer's payments meant for it.

        A payment is meant for an order when it comes from an online transaction of the order,
        or when its memo names, as a whole reference, the order, its customer reference, or one
        of its invoices (by number or payment reference); a payment that names an invoice pays
        that invoice only. A payment that names two documents, is in another currency or comes
        to more than is left to pay is never matched: its order goes to the exception queue
        with the reason. Other outstanding payments of the customer are left to the accountant.
        A payment with a journal entry is reconciled; one without (no outstanding account on
        its method) is linked to the invoice, as Odoo's payment wizard does, and the bank
        reconciliation completes it.
        """
        orders = self._q2c_batch(ids)
        invoices = orders._q2c_open_invoices()
        receivable = invoices.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        partners = invoices.commercial_partner_id
        payments = self.env["account.payment"].search(
            [
                ("company_id", "in", orders.company_id.ids),
                ("partner_id", "in", partners.ids),
                ("payment_type", "=", "inbound"),
                ("state", "in", ("in_process", "paid")),
                "|",
                ("move_id", "=", False),
                (
                    "move_id.line_ids",
                    "any",
                    [("account_id", "in", receivable.account_id.ids), ("reconciled", "=", False)],
                ),
            ]
        )
        payments = payments.filtered(lambda pay: pay.move_id or not pay.invoice_ids)
        claims, doubts = orders._q2c_payment_claims(payments)
        open_lines = payments.move_id.line_ids.filtered(
            lambda line: line.account_id in receivable.account_id and not line.reconciled
        )
        messages = {}
        plan = []
        for order in orders:
            mine = payments.filtered(lambda pay, o=order: claims.get(pay.id, (None,))[0] == o.id)
            reason = doubts.get(order.id) or (mine and order._q2c_payment_misfit(mine, claims, open_lines))
            if reason:
                messages[order.id] = Failure(reason)
                continue
            if not mine:
                continue
            order_invoices = invoices.filtered(lambda m, o=order: o in m.invoice_line_ids.sale_line_ids.order_id)
            # The payments naming an invoice go to it first, then those meant for the whole order.
            groups = mine.grouped(lambda pay: claims[pay.id][1])
            matched = self.env["account.move"]
            for invoice_id in sorted(groups, key=lambda key: (not key, key)):
                group = groups[invoice_id]
                targets = order_invoices.filtered(lambda m, i=invoice_id: m.id == i) if invoice_id else order_invoices
                if lines := open_lines.filtered(lambda line, g=group: line.move_id in g.move_id):
                    plan.append(receivable.filtered(lambda line, t=targets: line.move_id in t) | lines)
                if moveless := group.filtered(lambda pay: not pay.move_id):
                    targets.matched_payment_ids |= moveless
                matched |= targets
            messages[order.id] = self.env._(
                "Payment %(payments)s matched with %(invoices)s.",
                payments=", ".join(mine.mapped("name")),
                invoices=", ".join(matched.mapped("name")),
            )
        if plan:
            # Each order's invoice lines and payment lines are reconciled together, all the
            # orders of the batch in one pass (as Odoo's payment wizard does for a batch).
            self.env["account.move.line"]._reconcile_plan(plan)
        return messages

    def _q2c_payment_claims(self, payments):
        """What each payment is meant for among these orders: ``(claims, doubts)``.

        ``claims`` is ``{payment id: (order id, invoice id or False)}``, the invoice when the memo
        names one; ``doubts`` is ``{order id: reason}`` for the orders a payment names along with
        another document, which nobody but a person can sort out. The references looked for are
        those of every order and invoice of the customers, so that a memo naming another of
        their documents as well is seen.
        """
        from_tx = defaultdict(set)
        for order in self:
            for pay in order.transaction_ids.filtered(lambda tx: tx.state == "done").payment_id:
                from_tx[pay.id].add(order.id)
        named, labels = {}, {}
        if with_memo := payments.filtered("memo"):
            index = matching.ReferenceIndex()
            customers = with_memo.partner_id.commercial_partner_id.ids
            companies = self.company_id.ids
            for other in self.env["sale.order"].search_fetch(
                [
                    ("partner_id.commercial_partner_id", "in", customers),
                    ("company_id", "in", companies),
                    ("state", "!=", "cancel"),
                ],
                ["name", "client_order_ref"],
            ):
                labels["order", other.id] = other.name
                index.add(("order", other.id), other.name)
                index.add(("order", other.id), other.client_order_ref)
            for move in self.env["account.move"].search_fetch(
                [
                    ("commercial_partner_id", "in", customers),
                    ("company_id", "in", companies),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                ],
                ["name", "payment_reference"],
            ):
                labels["invoice", move.id] = move.name
                index.add(("invoice", move.id), move.name)
                index.add(("invoice", move.id), move.payment_reference)
            named = {pay.id: index.named(pay.memo) for pay in with_memo}
        Move = self.env["account.move"]
        named_invoices = Move.browse({key for keys in named.values() for kind, key in keys if kind == "invoice"})
        invoice_orders = {move.id: set(move.invoice_line_ids.sale_line_ids.order_id.ids) for move in named_invoices}
        batch = set(self.ids)
        claims, doubts = {}, {}
        for pay in payments:
            keys = named.get(pay.id, set())
            order_ids = {key for kind, key in keys if kind == "order"} | from_tx[pay.id]
            invoice_ids = {key for kind, key in keys if kind == "invoice"}
            of_invoices = set().union(*(invoice_orders[key] for key in invoice_ids))
            concerned = (order_ids | of_invoices) & batch
            if not concerned:
                continue
            if len(invoice_ids) > 1 or len(order_ids) > 1 or (invoice_ids and order_ids - of_invoices):
                documents = sorted(
                    {labels["invoice", key] for key in invoice_ids}
                    | {labels.get(("order", key)) or self.browse(key).name for key in order_ids}
                )
                for oid in concerned:
                    doubts.setdefault(
                        oid,
                        self.env._(
                            "Payment %(payment)s names %(documents)s: a person decides what it pays.",
                            payment=pay.name,
                            documents=", ".join(documents),
                        ),
                    )
                continue
            claims[pay.id] = (min(order_ids or concerned), next(iter(invoice_ids), False))
        return claims, doubts

    def _q2c_payment_misfit(self, payments, claims, open_lines):
        """Why the payments meant for this order cannot be matched as they are (another currency,
        more than is left to pay), or ``None``."""
        self.ensure_one()
        posted = self.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
        paid = sum(move.amount_total - move.amount_residual for move in posted)
        left_on_order = self.currency_id.round(self.amount_total - paid)
        total = 0.0
        groups = payments.grouped(lambda pay: claims[pay.id][1])
        for invoice_id, group in groups.items():
            invoice = self.env["account.move"].browse(invoice_id)
            currency = invoice.currency_id if invoice else self.currency_id
            if other := group.filtered(lambda pay, c=currency: pay.currency_id != c):
                return self.env._(
                    "Payment %(payment)s is in %(currency)s, %(document)s in %(expected)s: a person decides.",
                    payment=other[0].name,
                    currency=other[0].currency_id.name,
                    document=invoice.name or self.name,
                    expected=currency.name,
                )
            amount = sum(
                -sum(
                    open_lines.filtered(lambda line, p=pay: line.move_id == p.move_id).mapped(
                        "amount_residual_currency"
                    )
                )
                if pay.move_id
                else pay.amount
                for pay in group
            )
            total += amount
            left = invoice.amount_residual if invoice else left_on_order
            if float_compare(amount, left, precision_rounding=currency.rounding) > 0:
                return self.env._(
                    "Payment %(payments)s comes to %(amount)s, more than the %(left)s left to pay on %(document)s: "
                    "a person decides.",
                    payments=", ".join(group.mapped("name")),
                    amount=format_amount(self.env, amount, currency),
                    left=format_amount(self.env, max(left, 0.0), currency),
                    document=invoice.name or self.name,
                )
        if len(groups) > 1 and float_compare(total, left_on_order, precision_rounding=self.currency_id.rounding) > 0:
            return self.env._(
                "Payment %(payments)s comes to %(amount)s, more than the %(left)s left to pay on %(document)s: "
                "a person decides.",
                payments=", ".join(payments.mapped("name")),
                amount=format_amount(self.env, total, self.currency_id),
                left=format_amount(self.env, max(left_on_order, 0.0), self.currency_id),
                document=self.name,
            )
        return None

    # --- lock ----------------------------------------------------------------------

    def _q2c_select_lock(self, ids, cache):
        return (
            self._q2c_batch(ids)
            .filtered(
                lambda o: (
                    o.state == "sale"
                    and not o.locked
                    and o.q2c_profile_id.auto_lock
                    and o._q2c_state_from_documents({}) == "done"
                )
            )
            .ids
        )

    def _q2c_step_lock(self, ids, cache):
        self._q2c_batch(ids).action_lock()
        return {}

    # ------------------------------------------------------------------
    # Hooks from the documents
    # ------------------------------------------------------------------

    def _q2c_on_documents_moved(self):
        """A delivery was validated or an invoice paid: move the chain on (by trigger)."""
        # sudo: whoever moved the document (a warehouse user, a customer paying online) wakes
        # the chain without reading it.
        self.sudo().filtered(lambda o: o.q2c_state and o.q2c_state != "done")._q2c_enqueue()

    # ------------------------------------------------------------------
    # Uninstall
    # ------------------------------------------------------------------

    @api.model
    def _q2c_hand_over(self):
        """Before the addon goes: confirm the quotations a customer accepted and the chain did not
        confirm yet, as the chain would have (their checks pass, their profile confirms), with
        Odoo's own confirmation; the others get a to-do for their salesperson and a note.

        Without it they would stay quotations, and nothing would say that the customer said yes.
        """
        accepted = self.search(
            [("state", "in", ("draft", "sent")), ("q2c_state", "!=", False), ("q2c_accepted_on", "!=", False)]
        )
        if not accepted:
            return
        held = accepted._q2c_hold_reasons()[0]
        reasons = {oid: text for oid, (_state, text) in held.items()}
        for order in accepted.filtered(lambda o: o.id not in reasons and not o.q2c_profile_id.auto_confirm):
            reasons[order.id] = self.env._("Its workflow profile leaves the confirmation to a person.")
        todo = accepted.filtered(lambda o: o.id not in reasons)
        # sudo and q2c_runner: Odoo's own confirmation, the checks having just passed (the
        # uninstall runs as superuser anyway).
        confirm = todo.sudo().with_context(q2c_runner=True)
        result = run_batch(
            todo.ids,
            [Step("confirm", lambda ids: ids, lambda ids: confirm.browse(ids).action_confirm() and {})],
            savepoint=self.env.cr.savepoint,
            describe_error=self._q2c_describe_error,
            # One transaction that nobody else reads while the addon goes: no savepoint budget.
            max_savepoints=len(todo) + 2,
        )
        reasons.update({oid: reason for oid, (_step, reason) in result.failed.items()})
        channels = dict(self._fields["q2c_acceptance_channel"]._description_selection(self.env))
        admin = self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        bodies = {}
        for order in accepted:
            accepted_by = self.env._(
                "%(who)s accepted this quotation on %(date)s (%(how)s).",
                who=order.q2c_accepted_by or order.partner_id.name,
                date=format_date(self.env, order.q2c_accepted_on),
                how=channels.get(order.q2c_acceptance_channel, ""),
            )
            if order.id not in reasons:
                bodies[order.id] = self.env._(
                    "%(accepted)s Confirmed when quote to cash was uninstalled.", accepted=accepted_by
                )
                continue
            bodies[order.id] = plaintext2html(
                self.env._(
                    "%(accepted)s It is not confirmed:\n%(reason)s\nQuote to cash was uninstalled: "
                    "confirm the order by hand once that is settled.",
                    accepted=accepted_by,
                    reason=reasons[order.id],
                )
            )
            order.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Accepted quotation to confirm by hand"),
                note=bodies[order.id],
                user_id=(order.user_id if order.user_id.active else admin).id,
            )
        accepted._message_log_batch(bodies=bodies)
