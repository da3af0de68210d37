"""The hall calendar: holidays, 调休 workdays, opening hours, time zones and working-day arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from firmware_config.hall import OpeningHours
from hallcore.calendar import DayKind, HallCalendar, Holidays
from tests.conftest import local


@pytest.fixture(scope="module")
def holidays() -> Holidays:
    return Holidays.load()


@pytest.fixture(scope="module")
def cal(holidays: Holidays) -> HallCalendar:
    hours = OpeningHours.model_validate(
        {
            "weekday": [{"start": "09:00", "end": "18:00"}],
            "saturday": [{"start": "09:00", "end": "12:00"}],
            "appointment_flex_minutes": 60,
        }
    )
    return HallCalendar(hours, holidays)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 11, 23), DayKind.workday),
        (date(2026, 11, 22), DayKind.weekend),
        (date(2026, 10, 1), DayKind.holiday),
        (date(2026, 10, 10), DayKind.adjusted_workday),  # Saturday worked for 国庆
        (date(2026, 9, 20), DayKind.adjusted_workday),  # Sunday worked for 国庆
        (date(2026, 2, 16), DayKind.holiday),  # 春节 on a Monday
        (date(2026, 4, 6), DayKind.holiday),  # 清明 Monday
        (date(2027, 2, 8), DayKind.holiday),  # 2027 provisional 春节
    ],
)
def test_day_kinds(holidays: Holidays, day: date, kind: DayKind) -> None:
    assert holidays.kind(day) is kind


def test_adjusted_saturday_uses_weekday_hours(cal: HallCalendar) -> None:
    # 2026-02-14 is a Saturday worked for 春节: open all afternoon, not just Saturday morning.
    assert cal.is_open(local(2026, 2, 14, 16, 0))
    # An ordinary Saturday closes at noon.
    assert cal.is_open(local(2026, 11, 21, 11, 59))
    assert not cal.is_open(local(2026, 11, 21, 12, 0))


def test_sunday_and_holiday_closed(cal: HallCalendar) -> None:
    assert not cal.is_open(local(2026, 11, 22, 10, 0))
    assert not cal.is_open(local(2026, 10, 3, 10, 0))  # 国庆 Saturday: no Saturday service on a holiday


def test_holiday_eve_closes_and_reopens_after_the_holiday(cal: HallCalendar) -> None:
    assert cal.is_open(local(2026, 9, 30, 17, 59))
    assert not cal.is_open(local(2026, 9, 30, 18, 0))
    assert cal.next_opening(local(2026, 9, 30, 18, 0)) == local(2026, 10, 8, 9, 0)
    # Spring Festival: the Friday before is a normal day, then nine days off.
    assert cal.next_opening(local(2026, 2, 14, 18, 30)) == local(2026, 2, 24, 9, 0)


def test_no_lunch_break_means_open_at_noon(cal: HallCalendar) -> None:
    assert cal.is_open(local(2026, 11, 23, 12, 30))


def test_lunch_break_when_the_hall_has_one(holidays: Holidays) -> None:
    hours = OpeningHours.model_validate(
        {"weekday": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "17:30"}]}
    )
    cal = HallCalendar(hours, holidays)
    assert not cal.is_open(local(2026, 11, 23, 12, 30))
    assert cal.next_opening(local(2026, 11, 23, 12, 30)) == local(2026, 11, 23, 13, 30)
    assert cal.closing_time(local(2026, 11, 23, 10, 0)) == local(2026, 11, 23, 12, 0)


def test_flexible_hours_for_appointments_only(cal: HallCalendar) -> None:
    early = local(2026, 11, 23, 8, 15)
    assert not cal.is_open(early)
    assert cal.is_open_for_appointments(early)
    assert cal.is_open_for_appointments(local(2026, 11, 23, 18, 45))
    assert not cal.is_open_for_appointments(local(2026, 11, 23, 19, 0))
    assert not cal.is_open_for_appointments(local(2026, 11, 22, 10, 0))  # Sunday stays closed


def test_time_zone_is_the_halls(cal: HallCalendar) -> None:
    # 01:30 UTC is 09:30 in Shanghai: open. 00:30 UTC is 08:30: not yet.
    assert cal.is_open(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    # 16:30 UTC on Sunday is already Monday 00:30 local: next opening is Monday 09:00 local.
    assert cal.next_opening(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) == local(2026, 11, 23, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        cal.is_open(datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # skips the weekend
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # next working day is the 调休 Saturday
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then across the Spring Festival
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # across 国庆
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # the 调休 Saturday counts
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # year end into 2027's 元旦
    ],
)
def test_add_working_days(cal: HallCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


def test_negative_working_days_refused(cal: HallCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 11, 23), -1)


def test_data_status_is_reported(cal: HallCalendar) -> None:
    assert cal.covers(2026) == "official"
    assert cal.covers(2027) == "provisional"
    assert cal.covers(2030) is None


def test_holiday_file_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "h.yaml"
    bad.write_text(
        "years:\n  2026:\n    status: official\n    source: x\n"
        "    holidays: [{name: 国庆节, from: '2026-10-01', to: '2026-10-07'}]\n"
        "    workdays: [{date: '2026-10-05', reason: 错误}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="既是假日又是调休上班日"):
        Holidays.load(bad)
    bad.write_text(
        "years:\n  2026:\n    status: official\n    source: x\n    holidays: []\n"
        "    workdays: [{date: '2026-10-12', reason: 周一}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="不是周末"):
        Holidays.load(bad)
