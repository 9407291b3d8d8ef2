import pytz

from odoo import api, models
from odoo.exceptions import UserError

from ..engine.clock import WorkingTimeline


class ResourceCalendar(models.Model):
    _inherit = "resource.calendar"

    def _support_timeline(self, start, end):
        """The calendar's working time from ``start`` to ``end`` (naive UTC) as a :class:`WorkingTimeline`.

        Attendances are read in the calendar's own time zone (the user's does not matter) and
        its public holidays and closures (leaves without resource) are taken out.
        """
        self.ensure_one()
        if not self.attendance_ids:
            raise UserError(
                self.env._(
                    "The working hours %(calendar)s have no working time: SLA deadlines cannot be counted in them.",
                    calendar=self.name,
                )
            )
        intervals = self._work_intervals_batch(pytz.utc.localize(start), pytz.utc.localize(end))[False]
        return WorkingTimeline(
            (
                interval_start.astimezone(pytz.utc).replace(tzinfo=None),
                interval_end.astimezone(pytz.utc).replace(tzinfo=None),
            )
            for interval_start, interval_end, _records in intervals
        )

    def write(self, vals):
        result = super().write(vals)
        if {"attendance_ids", "tz"} & vals.keys():
            self.env["support.team"]._sla_refit_for_calendars(self)
        return result


class ResourceCalendarAttendance(models.Model):
    _inherit = "resource.calendar.attendance"

    @api.model_create_multi
    def create(self, vals_list):
        attendances = super().create(vals_list)
        self.env["support.team"]._sla_refit_for_calendars(attendances.calendar_id)
        return attendances

    def write(self, vals):
        calendars = self.calendar_id
        result = super().write(vals)
        self.env["support.team"]._sla_refit_for_calendars(calendars | self.calendar_id)
        return result

    def unlink(self):
        calendars = self.calendar_id
        result = super().unlink()
        self.env["support.team"]._sla_refit_for_calendars(calendars)
        return result


class ResourceCalendarLeaves(models.Model):
    """A public holiday or a closure added, moved or removed moves the deadlines it covers."""

    _inherit = "resource.calendar.leaves"

    def _support_scope(self):
        closures = self.filtered(lambda leave: not leave.resource_id)
        return closures.calendar_id, closures.filtered(lambda leave: not leave.calendar_id).company_id

    @api.model_create_multi
    def create(self, vals_list):
        leaves = super().create(vals_list)
        self.env["support.team"]._sla_refit_for_calendars(*leaves._support_scope())
        return leaves

    def write(self, vals):
        calendars, companies = self._support_scope()
        result = super().write(vals)
        after_calendars, after_companies = self._support_scope()
        self.env["support.team"]._sla_refit_for_calendars(calendars | after_calendars, companies | after_companies)
        return result

    def unlink(self):
        calendars, companies = self._support_scope()
        result = super().unlink()
        self.env["support.team"]._sla_refit_for_calendars(calendars, companies)
        return result
