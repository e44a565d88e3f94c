"""The business-hours clock: examples that pin the semantics, and properties over random schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from departments.schedules import (
    NeverOpen,
    Schedule,
    business_seconds_between,
    business_time_add,
    is_open,
    next_open,
    open_intervals,
    schedule_errors,
    schedule_from_config,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def office(time_zone="Europe/Berlin", holidays=()):
    weekdays = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    return schedule_from_config(time_zone=time_zone, weekly=weekdays, holidays=list(holidays))


def local(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold)


def test_split_shift_skips_lunch_and_night():
    schedule = office()
    start = local(BERLIN, 2025, 3, 3, 11, 0)  # Monday
    assert business_time_add(start, 2 * HOUR, schedule) == local(BERLIN, 2025, 3, 3, 14, 0)
    # Seven open hours a day: 8 hours from Monday 09:00 end Tuesday 10:00.
    assert business_time_add(local(BERLIN, 2025, 3, 3, 9), 8 * HOUR, schedule) == local(BERLIN, 2025, 3, 4, 10)


def test_landing_on_a_shift_end_answers_that_end():
    schedule = office()
    assert business_time_add(local(BERLIN, 2025, 3, 3, 13), 4 * HOUR, schedule) == local(BERLIN, 2025, 3, 3, 17)


def test_weekend_and_holiday_are_closed():
    schedule = office(holidays=[{"date": "2025-03-10", "name": "Founders' day", "recurring": True}])
    friday_afternoon = local(BERLIN, 2025, 3, 7, 16)
    # 1 h on Friday, Monday 10 March is a holiday, so the second hour is Tuesday 09:00-10:00.
    assert business_time_add(friday_afternoon, 2 * HOUR, schedule) == local(BERLIN, 2025, 3, 11, 10)
    # Recurring: the same date a year later is closed too.
    assert not is_open(schedule, local(BERLIN, 2026, 3, 10, 10))
    assert is_open(schedule, local(BERLIN, 2026, 3, 11, 10))


def test_dated_holiday_closes_only_that_year():
    schedule = office(holidays=[{"date": "2025-03-10", "name": "Strike", "recurring": False}])
    assert not is_open(schedule, local(BERLIN, 2025, 3, 10, 10))
    assert is_open(schedule, local(BERLIN, 2027, 3, 10, 10))  # a Wednesday


def test_shift_across_midnight_belongs_to_its_start_day():
    schedule = schedule_from_config(time_zone="UTC", weekly={"fri": [["22:00", "06:00"]]}, holidays=[])
    assert is_open(schedule, datetime(2025, 3, 8, 5, 59, tzinfo=UTC))  # Saturday morning, Friday's shift
    assert not is_open(schedule, datetime(2025, 3, 8, 22, 30, tzinfo=UTC))  # Saturday night: no shift
    assert business_seconds_between(
        datetime(2025, 3, 7, tzinfo=UTC), datetime(2025, 3, 9, tzinfo=UTC), schedule
    ) == 8 * HOUR


def test_holiday_cuts_the_part_of_an_overnight_shift_on_that_day():
    schedule = schedule_from_config(
        time_zone="UTC", weekly={"fri": [["22:00", "06:00"]]},
        holidays=[{"date": "2025-03-08", "name": "", "recurring": False}],
    )
    assert business_seconds_between(
        datetime(2025, 3, 7, tzinfo=UTC), datetime(2025, 3, 9, tzinfo=UTC), schedule
    ) == 2 * HOUR


def test_spring_forward_day_shift_is_as_long_as_the_wall_clock_says():
    # 30 March 2025: Berlin jumps from 02:00 to 03:00.
    schedule = schedule_from_config(time_zone="Europe/Berlin", weekly={"sun": [["01:00", "05:00"]]}, holidays=[])
    sunday = (local(BERLIN, 2025, 3, 29), local(BERLIN, 2025, 3, 31))
    assert business_seconds_between(*sunday, schedule) == 3 * HOUR
    # A shift starting inside the skipped hour starts when the clock jumps.
    gap = schedule_from_config(time_zone="Europe/Berlin", weekly={"sun": [["02:30", "04:00"]]}, holidays=[])
    assert open_intervals(gap, *sunday) == [(datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
                                              datetime(2025, 3, 30, 2, 0, tzinfo=UTC))]


def test_fall_back_day_shift_counts_the_repeated_hour():
    # 26 October 2025: Berlin goes from 03:00 back to 02:00.
    schedule = schedule_from_config(time_zone="Europe/Berlin", weekly={"sun": [["01:00", "05:00"]]}, holidays=[])
    assert business_seconds_between(local(BERLIN, 2025, 10, 25), local(BERLIN, 2025, 10, 27), schedule) == 5 * HOUR


def test_next_open_and_no_schedule_means_always_open():
    schedule = office()
    assert next_open(schedule, local(BERLIN, 2025, 3, 8, 12)) == local(BERLIN, 2025, 3, 10, 9)
    at = datetime(2025, 3, 8, 3, tzinfo=UTC)
    assert is_open(None, at)
    assert business_time_add(at, 90, None) == at + timedelta(seconds=90)
    assert business_seconds_between(at, at + timedelta(hours=2), None) == 2 * HOUR


def test_a_schedule_that_is_never_open_raises_instead_of_looping():
    closed = Schedule(time_zone="UTC", weekly=((),) * 7)
    with pytest.raises(NeverOpen):
        business_time_add(datetime(2025, 1, 1, tzinfo=UTC), 60, closed)


def test_validation_names_each_problem():
    errors = schedule_errors(
        time_zone="Mars/Olympus", weekly={"mon": [["09:00", "25:00"]], "funday": []},
        holidays=[{"date": "2025-02-30"}],
    )
    assert set(errors) == {"time_zone", "weekly", "holidays"}
    assert schedule_errors(time_zone="UTC", weekly={"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
                           holidays=[])["weekly"] == ["mon: shifts overlap."]
    assert schedule_errors(time_zone="UTC", weekly={}, holidays=[])["weekly"][0].startswith("Give at least one")
    assert schedule_errors(time_zone="UTC", weekly={"sun": [["22:00", "02:00"]]}, holidays=[]) == {}


# --- properties -------------------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]


@st.composite
def schedules(draw):
    weekly = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        # Non-overlapping shifts within a day; the last may run across midnight.
        cuts = sorted(draw(st.sets(st.integers(0, 95), max_size=6)))
        shifts = []
        for a, b in zip(cuts[::2], cuts[1::2], strict=False):
            shifts.append([f"{a * 15 // 60:02d}:{a * 15 % 60:02d}", f"{b * 15 // 60:02d}:{b * 15 % 60:02d}"])
        if shifts and draw(st.booleans()):
            # Overnight: from a quarter after the last shift to a time next morning.
            overnight_start = _minutes(shifts[-1][1]) + 15
            overnight_end = draw(st.integers(0, 95)) * 15
            if overnight_start < 24 * 60 and overnight_end < overnight_start:
                shifts.append([_text(overnight_start), _text(overnight_end)])
        weekly[day] = shifts
    if not any(weekly.values()):
        weekly["wed"] = [["10:00", "11:00"]]
    holidays = [
        {"date": d.isoformat(), "name": "", "recurring": r}
        for d, r in draw(st.lists(st.tuples(st.dates(date(2023, 1, 1), date(2027, 12, 31)), st.booleans()),
                                  max_size=8))
    ]
    config = {"time_zone": draw(st.sampled_from(ZONES)), "weekly": weekly, "holidays": holidays}
    assert schedule_errors(**config) == {}, config
    return schedule_from_config(**config)


def _minutes(text):
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _text(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


instants = st.datetimes(datetime(2024, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
durations = st.integers(0, 5 * 24 * HOUR)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(schedules(), instants, durations)
def test_adding_then_measuring_gives_back_the_same_seconds(schedule, start, seconds):
    due = business_time_add(start, seconds, schedule)
    assert due >= start
    assert business_seconds_between(start, due, schedule) == seconds


@PROPERTY
@given(schedules(), instants, durations)
def test_counting_backwards_mirrors_counting_forwards(schedule, start, seconds):
    earlier = business_time_add(start, -seconds, schedule)
    assert earlier <= start
    assert business_seconds_between(earlier, start, schedule) == seconds
    assert business_seconds_between(start, earlier, schedule) == -seconds


@PROPERTY
@given(schedules(), instants, st.integers(1, 5 * 24 * HOUR))
def test_a_due_time_lies_in_open_time_or_at_a_shift_end(schedule, start, seconds):
    due = business_time_add(start, seconds, schedule)
    just_before = due - timedelta(microseconds=1)
    assert is_open(schedule, just_before)


@PROPERTY
@given(schedules(), instants, st.integers(1, 14 * 24 * 3600))
def test_closed_time_is_never_counted(schedule, a, length):
    b = a + timedelta(seconds=length)
    counted = business_seconds_between(a, b, schedule)
    assert 0 <= counted <= length
    for x, y in open_intervals(schedule, a, b):
        assert a <= x < y <= b
        assert is_open(schedule, x) and is_open(schedule, y - timedelta(microseconds=1))
        zone = schedule.zone
        for moment in (x, y - timedelta(microseconds=1)):
            assert not schedule.is_holiday(moment.astimezone(zone).date())


@PROPERTY
@given(schedules(), instants, instants, instants)
def test_measuring_is_additive(schedule, a, b, c):
    # Whole seconds: the measure rounds sub-second remainders away, which is not additive.
    a, b, c = sorted(x.replace(microsecond=0) for x in (a, b, c))
    if c - a > timedelta(days=120):
        c = a + timedelta(days=120)
        b = min(b, c)
    assert business_seconds_between(a, c, schedule) == (
        business_seconds_between(a, b, schedule) + business_seconds_between(b, c, schedule)
    )


@PROPERTY
@given(schedules(), instants)
def test_next_open_is_open_and_nothing_before_it_is(schedule, at):
    opening = next_open(schedule, at)
    assert opening >= at
    assert is_open(schedule, opening)
    assert business_seconds_between(at, opening, schedule) == 0


def test_property_helper_generates_overnight_and_split_shifts():
    # The strategy must reach the cases the properties are about, or they prove little.
    seen = {"overnight": False, "split": False}

    @settings(max_examples=200, deadline=None)
    @given(schedules())
    def look(schedule):
        for spans in schedule.weekly:
            if any(end > 24 * 60 for _, end in spans):
                seen["overnight"] = True
            if len(spans) > 1:
                seen["split"] = True

    look()
    assert all(seen.values())
