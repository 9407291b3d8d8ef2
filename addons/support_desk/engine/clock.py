"""Working-time arithmetic for SLA deadlines.

A :class:`WorkingTimeline` holds a team's working intervals (already in UTC,
holidays and closures removed) with the working seconds accumulated before
each one. Adding working time to an instant, or measuring the working time
between two instants, is then a binary search instead of a walk through the
calendar, and ``add_many``/``between_many`` do it for thousands of tickets
in one numpy pass. :class:`ContinuousTimeline` is the 24/7 counterpart.

Instants are naive UTC datetimes, as Odoo stores them.
"""

from datetime import datetime, timedelta

import numpy as np

EPOCH = datetime(1970, 1, 1)


def to_seconds(moment):
    return (moment - EPOCH).total_seconds()


def to_datetime(seconds):
    # whole microseconds: float seconds since 1970 carry about a microsecond of noise
    return EPOCH + timedelta(microseconds=round(float(seconds) * 1e6))


class WorkingTimeline:
    """Working intervals with their cumulative working time."""

    def __init__(self, intervals):
        merged = []
        for start, end in sorted(intervals):
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = np.array([to_seconds(start) for start, _end in merged], dtype=float)
        self.ends = np.array([to_seconds(end) for _start, end in merged], dtype=float)
        # working seconds before interval i (the last entry: the whole timeline's)
        self.cumulative = np.concatenate([[0.0], np.cumsum(self.ends - self.starts)])
        self.first = merged[0][0] if merged else None
        self.last = merged[-1][1] if merged else None

    def __bool__(self):
        return bool(len(self.starts))

    def covers(self, start, end):
        """Whether the intervals known reach from ``start`` to ``end`` (else: extend the horizon)."""
        return bool(self) and self.first <= start and end <= self.last

    def _worked(self, moments):
        """Working seconds from the timeline's beginning to each of ``moments`` (epoch seconds)."""
        index = np.searchsorted(self.ends, moments, side="right")  # intervals ended by then
        worked = self.cumulative[index]
        inside = index < len(self.starts)
        safe = np.minimum(index, len(self.starts) - 1)
        partial = np.clip(moments - self.starts[safe], 0.0, self.ends[safe] - self.starts[safe])
        return worked + np.where(inside, partial, 0.0)

    def add_many(self, starts, seconds):
        """For each start, the instant when ``seconds`` of working time have elapsed after it."""
        moments = np.array([to_seconds(start) for start in starts], dtype=float)
        seconds = np.broadcast_to(np.asarray(seconds, dtype=float), moments.shape)
        if not self:
            raise ValueError("no working time in this timeline")
        target = self._worked(moments) + seconds
        if (target > self.cumulative[-1] + 1e-6).any():
            raise ValueError("the deadline lies beyond the working intervals known: extend the horizon")
        # the interval where the target is reached; a target at an interval's end stays there
        index = np.clip(np.searchsorted(self.cumulative, target, side="left") - 1, 0, len(self.starts) - 1)
        deadlines = self.starts[index] + (target - self.cumulative[index])
        deadlines = np.where(seconds <= 0, moments, deadlines)
        return [to_datetime(value) for value in deadlines]

    def add(self, start, seconds):
        return self.add_many([start], seconds)[0]

    def between_many(self, starts, ends):
        """Working seconds from each start to its end (0 when the end is not after the start)."""
        if not self:
            return np.zeros(len(starts))
        begin = self._worked(np.array([to_seconds(moment) for moment in starts], dtype=float))
        finish = self._worked(np.array([to_seconds(moment) for moment in ends], dtype=float))
        return np.maximum(finish - begin, 0.0)

    def between(self, start, end):
        return float(self.between_many([start], [end])[0])


class ContinuousTimeline:
    """Around-the-clock time (24/7 teams): working time is elapsed time."""

    def __bool__(self):
        return True

    def covers(self, start, end):
        return True

    def add_many(self, starts, seconds):
        seconds = np.broadcast_to(np.asarray(seconds, dtype=float), (len(starts),))
        return [
            start + timedelta(seconds=float(value)) if value > 0 else start
            for start, value in zip(starts, seconds, strict=True)
        ]

    def add(self, start, seconds):
        return self.add_many([start], seconds)[0]

    def between_many(self, starts, ends):
        return np.array([max((end - start).total_seconds(), 0.0) for start, end in zip(starts, ends, strict=True)])

    def between(self, start, end):
        return float(self.between_many([start], [end])[0])
