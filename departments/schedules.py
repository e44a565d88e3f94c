"""Business-hours clock arithmetic: pure functions over a ``Schedule`` value object, no database.

A schedule is a weekly grid of shifts in a time zone, minus holidays. A shift whose end is not after its start
runs across midnight into the next day. A holiday closes its whole local calendar day (00:00 to 24:00), so the
part of an overnight shift that falls on a holiday is closed and the rest stays open.

Wall-clock times are turned into instants in the schedule's zone, so DST is honoured: a 09:00-17:00 shift is
eight real hours on any normal day, and a shift over a DST change is as long as the clock on the wall says. A
wall time that does not exist (the hour skipped in spring) is taken as the instant the clock jumps; an ambiguous
one (the hour repeated in autumn) as its first occurrence. Both keep the wall-to-instant mapping monotonic, so a
shift never turns into a negative interval.

``None`` as a schedule means "no hours configured": always open, and business time is plain time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far the clock looks for open time before deciding a schedule is never open.
SEARCH_HORIZON = timedelta(days=10 * 366)
_CHUNK = timedelta(days=7)
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class NeverOpen(ValueError):
    """The schedule has no open time within the search horizon (e.g. an empty weekly grid)."""


@dataclass(frozen=True)
class Schedule:
    time_zone: str
    # Seven tuples (Monday first) of (start, end) minutes after that day's midnight; end > start, up to
    # start + 24 h, so an overnight shift's end lies in the next day.
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    # (month, day) pairs closed every year.
    yearly_holidays: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays


# --- parsing and validating the stored form ---------------------------------------------------------------

def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def schedule_errors(*, time_zone: str, weekly: object, holidays: object) -> dict[str, list[str]]:
    """Field messages for a schedule in its stored form; empty when it is valid.

    ``weekly``: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}; ``holidays``: [{"date": "2025-12-25",
    "name": "Christmas", "recurring": true}, ...].
    """
    errors: dict[str, list[str]] = {}
    if time_zone not in available_timezones():
        errors["time_zone"] = [f"{time_zone!r} is not a known time zone."]
    weekly_errors: list[str] = []
    if not isinstance(weekly, dict):
        weekly_errors.append("Give the shifts of each weekday, e.g. {\"mon\": [[\"09:00\", \"17:00\"]]}.")
    else:
        unknown = sorted(set(weekly) - set(WEEKDAYS))
        if unknown:
            weekly_errors.append(f"Unknown weekdays: {', '.join(map(str, unknown))}; use {', '.join(WEEKDAYS)}.")
        total = 0
        for day in WEEKDAYS:
            shifts = weekly.get(day, [])
            if not isinstance(shifts, list):
                weekly_errors.append(f"{day}: give a list of [start, end] shifts.")
                continue
            spans = []
            for shift in shifts:
                if (not isinstance(shift, list | tuple) or len(shift) != 2
                        or not all(isinstance(v, str) and _TIME_RE.match(v) for v in shift)):
                    weekly_errors.append(f"{day}: {shift!r} is not a [\"HH:MM\", \"HH:MM\"] shift.")
                    continue
                start, end = _minutes(shift[0]), _minutes(shift[1])
                if start == DAY_MINUTES:
                    weekly_errors.append(f"{day}: a shift cannot start at 24:00.")
                    continue
                if end <= start:
                    end += DAY_MINUTES
                spans.append((start, end))
            spans.sort()
            for (_, end_a), (start_b, _) in zip(spans, spans[1:], strict=False):
                if start_b < end_a:
                    weekly_errors.append(f"{day}: shifts overlap.")
                    break
            total += sum(end - start for start, end in spans)
        if not weekly_errors and total == 0:
            weekly_errors.append("Give at least one shift: a schedule that is never open has no next opening.")
    if weekly_errors:
        errors["weekly"] = weekly_errors
    holiday_errors: list[str] = []
    if not isinstance(holidays, list):
        holiday_errors.append("Give a list of holidays.")
    else:
        for item in holidays:
            if not isinstance(item, dict) or not isinstance(item.get("date"), str):
                holiday_errors.append(f"{item!r}: give a date (YYYY-MM-DD), a name and whether it recurs.")
                continue
            unknown = set(item) - {"date", "name", "recurring"}
            if unknown:
                holiday_errors.append(f"{item['date']}: unknown keys {', '.join(sorted(unknown))}.")
            try:
                date.fromisoformat(item["date"])
            except ValueError:
                holiday_errors.append(f"{item['date']!r} is not a date (YYYY-MM-DD).")
            if not isinstance(item.get("recurring", False), bool):
                holiday_errors.append(f"{item['date']}: recurring is true or false.")
            if not isinstance(item.get("name", ""), str):
                holiday_errors.append(f"{item['date']}: name is text.")
    if holiday_errors:
        errors["holidays"] = holiday_errors
    return errors


def schedule_from_config(*, time_zone: str, weekly: dict, holidays: list) -> Schedule:
    """The value object of a stored (already validated) schedule."""
    grid = []
    for day in WEEKDAYS:
        spans = []
        for start_text, end_text in weekly.get(day, []):
            start, end = _minutes(start_text), _minutes(end_text)
            if end <= start:
                end += DAY_MINUTES
            spans.append((start, end))
        grid.append(tuple(sorted(spans)))
    dated = frozenset(date.fromisoformat(h["date"]) for h in holidays if not h.get("recurring"))
    yearly = frozenset(
        (d.month, d.day) for d in (date.fromisoformat(h["date"]) for h in holidays if h.get("recurring"))
    )
    return Schedule(time_zone=time_zone, weekly=tuple(grid), holidays=dated, yearly_holidays=yearly)


# --- wall time to instants --------------------------------------------------------------------------------

def _to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # In the gap of a spring-forward change: the first instant whose wall time is past ``naive``, which is
    # the moment the clock jumps. It lies between the readings with the offsets after and before the change.
    low = int(naive.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp()) + 1
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(low, UTC)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return _to_utc(datetime.combine(day, time()), zone)


def _raw_intervals(schedule: Schedule, first_day: date, last_day: date) -> list[tuple[datetime, datetime]]:
    """Open instants of the shifts starting on ``first_day``..``last_day``, holidays cut out, sorted, merged."""
    zone = schedule.zone
    spans: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        midnight = datetime.combine(day, time())
        for start, end in schedule.weekly[day.weekday()]:
            begin = _to_utc(midnight + timedelta(minutes=start), zone)
            finish = _to_utc(midnight + timedelta(minutes=end), zone)
            # A shift covers at most two local days; cut out whichever of them is a holiday.
            pieces = [(begin, finish)]
            for offset in (0, 1):
                covered = day + timedelta(days=offset)
                if not schedule.is_holiday(covered):
                    continue
                closed_from = _day_start(covered, zone)
                closed_to = _day_start(covered + timedelta(days=1), zone)
                next_pieces = []
                for a, b in pieces:
                    if a < closed_from:
                        next_pieces.append((a, min(b, closed_from)))
                    if b > closed_to:
                        next_pieces.append((max(a, closed_to), b))
                pieces = next_pieces
            spans.extend((a, b) for a, b in pieces if a < b)
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def open_intervals(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The open periods within [start, end), as UTC instants, sorted and disjoint."""
    if end <= start:
        return []
    zone = schedule.zone
    # Two days back: an overnight shift that began the day before (plus a DST hour) may still be running.
    first_day = start.astimezone(zone).date() - timedelta(days=2)
    last_day = end.astimezone(zone).date()
    result = []
    for a, b in _raw_intervals(schedule, first_day, last_day):
        a, b = max(a, start), min(b, end)
        if a < b:
            result.append((a, b))
    return result


def _forward(schedule: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    while cursor - start < SEARCH_HORIZON:
        yield from open_intervals(schedule, cursor, cursor + _CHUNK)
        cursor += _CHUNK
    raise NeverOpen("No open time in the schedule within ten years.")


def _backward(schedule: Schedule, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    cursor = end
    while end - cursor < SEARCH_HORIZON:
        yield from reversed(open_intervals(schedule, cursor - _CHUNK, cursor))
        cursor -= _CHUNK
    raise NeverOpen("No open time in the schedule within ten years.")


# --- the clock --------------------------------------------------------------------------------------------

def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("Business-hours arithmetic needs aware datetimes.")
    return at.astimezone(UTC)


def is_open(schedule: Schedule | None, at: datetime) -> bool:
    if schedule is None:
        return True
    at = _aware(at)
    return bool(open_intervals(schedule, at, at + timedelta(microseconds=1)))


def next_open(schedule: Schedule | None, at: datetime) -> datetime:
    """``at`` when open, else the next opening."""
    if schedule is None:
        return at
    at = _aware(at)
    for a, _ in _forward(schedule, at):
        return a
    raise NeverOpen  # pragma: no cover - _forward raises first


def business_time_add(start: datetime, seconds: int | timedelta, schedule: Schedule | None) -> datetime:
    """The instant at which ``seconds`` of open time (negative: counted backwards) have passed since ``start``.

    Landing exactly at the end of a shift answers that end, not the next opening: a target of 8 hours from
    09:00 on a 09:00-17:00 day is due at 17:00 that day.
    """
    amount = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
    if schedule is None:
        return start + amount
    start = _aware(start)
    remaining = abs(amount)
    if not remaining:
        return start
    if amount > timedelta():
        for a, b in _forward(schedule, start):
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
    else:
        for a, b in _backward(schedule, start):
            if b - a >= remaining:
                return b - remaining
            remaining -= b - a
    raise NeverOpen  # pragma: no cover - the generators raise first


def business_duration_between(a: datetime, b: datetime, schedule: Schedule | None) -> timedelta:
    """Open time from ``a`` to ``b``, exactly (negative when ``b`` is earlier)."""
    if b < a:
        return -business_duration_between(b, a, schedule)
    if schedule is None:
        return b - a
    return sum((y - x for x, y in open_intervals(schedule, _aware(a), _aware(b))), timedelta())


def business_seconds_between(a: datetime, b: datetime, schedule: Schedule | None) -> int:
    """Open seconds from ``a`` to ``b`` (negative when ``b`` is earlier), the fraction dropped."""
    if b < a:
        return -business_seconds_between(b, a, schedule)
    return business_duration_between(a, b, schedule) // timedelta(seconds=1)
