import pytz

from odoo import models
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
