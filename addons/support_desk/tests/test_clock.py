import random
from datetime import timedelta

import pytz

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import BaseCase, TransactionCase, tagged

from ..engine.clock import ContinuousTimeline, WorkingTimeline
from .common import at, office_calendars

HOUR = 3600.0


class TestWorkingTimeline(BaseCase):
    """The engine alone, on hand-made intervals (naive UTC)."""

    def setUp(self):
        super().setUp()
        # Mon 9-12 and 13-17, Tue 9-12 (touching and overlapping pieces are merged)
        self.timeline = WorkingTimeline(
            [
                (at("2026-01-12 09:00"), at("2026-01-12 11:00")),
                (at("2026-01-12 11:00"), at("2026-01-12 12:00")),
                (at("2026-01-12 13:00"), at("2026-01-12 16:00")),
                (at("2026-01-12 15:00"), at("2026-01-12 17:00")),
                (at("2026-01-13 09:00"), at("2026-01-13 12:00")),
            ]
        )

    def test_intervals_are_merged(self):
        self.assertEqual(len(self.timeline.starts), 3)
        self.assertEqual(self.timeline.cumulative[-1], 10 * HOUR)

    def test_add(self):
        add = self.timeline.add
        self.assertEqual(add(at("2026-01-12 10:00"), HOUR), at("2026-01-12 11:00"))
        self.assertEqual(add(at("2026-01-12 11:30"), HOUR), at("2026-01-12 13:30"), "the lunch break is skipped")
        self.assertEqual(add(at("2026-01-12 07:00"), HOUR), at("2026-01-12 10:00"), "a start before hours waits")
        self.assertEqual(add(at("2026-01-12 12:30"), HOUR), at("2026-01-12 14:00"), "a start in a break waits")
        self.assertEqual(add(at("2026-01-12 16:00"), 2 * HOUR), at("2026-01-13 10:00"), "overnight")
        self.assertEqual(add(at("2026-01-12 11:00"), HOUR), at("2026-01-12 12:00"), "an interval's end stays there")
        self.assertEqual(add(at("2026-01-12 12:30"), 0), at("2026-01-12 12:30"), "no time to add: the start")

    def test_between_is_the_inverse_of_add(self):
        self.assertEqual(self.timeline.between(at("2026-01-12 11:30"), at("2026-01-12 13:30")), HOUR)
        self.assertEqual(self.timeline.between(at("2026-01-12 18:00"), at("2026-01-13 08:00")), 0)
        self.assertEqual(self.timeline.between(at("2026-01-13 10:00"), at("2026-01-12 10:00")), 0, "backwards: 0")
        rng = random.Random(7)
        for _i in range(50):
            start = at("2026-01-12 06:00") + timedelta(minutes=rng.randrange(0, 24 * 60))
            seconds = rng.randrange(1, 5 * 60) * 60.0
            if self.timeline.between(start, self.timeline.last) < seconds:
                continue
            self.assertAlmostEqual(self.timeline.between(start, self.timeline.add(start, seconds)), seconds, places=3)

    def test_vectorised_equals_one_by_one(self):
        rng = random.Random(3)
        starts = [at("2026-01-12 00:00") + timedelta(minutes=rng.randrange(0, 36 * 60)) for _i in range(200)]
        seconds = [rng.randrange(1, 4 * 60) * 60.0 for _start in starts]
        kept = [
            (s, n) for s, n in zip(starts, seconds, strict=True) if self.timeline.between(s, self.timeline.last) >= n
        ]
        many = self.timeline.add_many([s for s, _n in kept], [n for _s, n in kept])
        self.assertEqual(many, [self.timeline.add(s, n) for s, n in kept])
        ends = [s + timedelta(hours=5) for s, _n in kept]
        self.assertEqual(
            self.timeline.between_many([s for s, _n in kept], ends).tolist(),
            [self.timeline.between(s, e) for (s, _n), e in zip(kept, ends, strict=True)],
        )

    def test_beyond_the_horizon_is_refused(self):
        self.assertFalse(self.timeline.covers(at("2026-01-12 10:00"), at("2026-01-14 10:00")))
        with self.assertRaises(ValueError):
            self.timeline.add(at("2026-01-13 11:00"), 2 * HOUR)

    def test_around_the_clock(self):
        clock = ContinuousTimeline()
        self.assertEqual(clock.add(at("2026-01-17 22:00"), 8 * HOUR), at("2026-01-18 06:00"))
        self.assertEqual(clock.between(at("2026-01-17 22:00"), at("2026-01-18 06:00")), 8 * HOUR)


@tagged("post_install", "-at_install")
class TestDeadlineTable(TransactionCase):
    """Deadlines through real calendars, to the minute, and the same as Odoo's ``plan_hours``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the user's own time zone must not matter: only the calendar's counts
        cls.env = cls.env(context=dict(cls.env.context, tz="Asia/Tokyo"))
        cls.paris, cls.new_york = office_calendars(cls.env)

    # (calendar, created at UTC, working hours, expected deadline UTC, why)
    TABLE = [
        ("paris", "2026-01-13 02:00", 2, "2026-01-13 10:00", "at night: from 09:00 Paris (08:00 UTC), +2 h"),
        (
            "paris",
            "2026-01-13 10:30",
            2,
            "2026-01-13 13:30",
            "11:30 Paris: 30 min, lunch 12-13, then 1 h 30 -> 14:30 Paris",
        ),
        ("paris", "2026-01-17 10:00", 2, "2026-01-19 10:00", "Saturday: Monday 09:00 Paris +2 h = 11:00 Paris"),
        ("paris", "2026-01-13 15:00", 2, "2026-01-15 09:00", "16:00 Tue: 1 h, Wednesday is a holiday, Thu 09:00 +1 h"),
        (
            "paris",
            "2026-01-12 08:00",
            8,
            "2026-01-13 09:00",
            "Monday 09:00 Paris: 7 h that day, 1 h Tuesday -> 10:00 Paris",
        ),
        ("paris", "2026-01-12 08:00", 21, "2026-01-15 16:00", "3 working days of 7 h, skipping the Wednesday holiday"),
        (
            "paris",
            "2026-03-27 15:00",
            2,
            "2026-03-30 08:00",
            "Fri 16:00 CET: 1 h; after the March change Mon 09:00 CEST = 07:00 UTC, +1 h",
        ),
        (
            "paris",
            "2026-10-23 14:00",
            2,
            "2026-10-26 09:00",
            "Fri 16:00 CEST: 1 h; after the October change Mon 09:00 CET = 08:00 UTC, +1 h",
        ),
        ("new_york", "2026-01-12 12:00", 2, "2026-01-12 16:00", "07:00 in New York: from 09:00 EST (14:00 UTC), +2 h"),
        (
            "new_york",
            "2026-01-16 21:30",
            1,
            "2026-01-19 14:30",
            "Fri 16:30 EST: 30 min, then Mon 09:00 EST + 30 min = 14:30 UTC",
        ),
    ]

    def test_deadlines(self):
        for calendar_name, created, hours, expected, why in self.TABLE:
            with self.subTest(why):
                calendar = getattr(self, calendar_name)
                start = at(created)
                timeline = calendar._support_timeline(start - timedelta(days=1), start + timedelta(days=30))
                self.assertEqual(timeline.add(start, hours * HOUR), at(expected))
                odoo_way = calendar.plan_hours(hours, pytz.utc.localize(start), compute_leaves=True)
                self.assertEqual(odoo_way.astimezone(pytz.utc).replace(tzinfo=None), at(expected), "plan_hours agrees")

    def test_vectorised_over_the_table(self):
        rows = [row for row in self.TABLE if row[0] == "paris"]
        starts = [at(row[1]) for row in rows]
        timeline = self.paris._support_timeline(min(starts) - timedelta(days=1), max(starts) + timedelta(days=30))
        self.assertEqual(timeline.add_many(starts, [row[2] * HOUR for row in rows]), [at(row[3]) for row in rows])

    def test_calendar_without_hours_is_refused(self):
        empty = self.env["resource.calendar"].create({"name": "Nobody works", "attendance_ids": [Command.clear()]})
        with self.assertRaises(UserError):
            empty._support_timeline(at("2026-01-12 00:00"), at("2026-01-20 00:00"))
