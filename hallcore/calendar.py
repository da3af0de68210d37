"""The hall calendar: public holidays, 调休 workdays, opening hours and working-day arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from firmware_config.hall import OpeningHours, Session, format_errors

HOLIDAYS_FILE = Path(__file__).resolve().parents[1] / "firmware_config" / "calendar" / "cn_holidays.yaml"
SEARCH_DAYS = 60  # the longest closure we look across when searching for the next opening


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HolidaySpan(_Strict):
    """A named run of days off."""

    name: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> HolidaySpan:
        if self.end < self.start:
            raise ValueError(f"{self.name}: 结束日期早于开始日期")
        return self


class AdjustedWorkday(_Strict):
    """A weekend day that is a working day (调休上班)."""

    date: date
    reason: str


class HolidayYear(_Strict):
    """One year's holiday arrangement."""

    status: str = Field(pattern="^(official|provisional)$")
    source: str
    holidays: tuple[HolidaySpan, ...]
    workdays: tuple[AdjustedWorkday, ...] = ()


class HolidayFile(_Strict):
    """The whole holiday data file."""

    years: dict[int, HolidayYear]

    @model_validator(mode="after")
    def _consistent(self) -> HolidayFile:
        for year, data in self.years.items():
            for span in data.holidays:
                if span.start.year != year or span.end.year != year:
                    raise ValueError(f"{year}: 假期“{span.name}”不在该年度内")
            off = {d for span in data.holidays for d in _days(span.start, span.end)}
            for wd in data.workdays:
                if wd.date.year != year:
                    raise ValueError(f"{year}: 调休日 {wd.date} 不在该年度内")
                if wd.date in off:
                    raise ValueError(f"{year}: {wd.date} 既是假日又是调休上班日")
                if wd.date.weekday() < 5:
                    raise ValueError(f"{year}: 调休上班日 {wd.date} 不是周末")
        return self


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


class DayKind(StrEnum):
    """What kind of day a date is for the hall."""

    workday = "工作日"
    adjusted_workday = "调休上班日"
    holiday = "法定节假日"
    weekend = "休息日"


@dataclass(frozen=True)
class Holidays:
    """Days off and adjusted workdays by date, with the years the data covers."""

    off: dict[date, str]
    workdays: dict[date, str]
    years: dict[int, str]  # year -> status

    @classmethod
    def load(cls, path: Path = HOLIDAYS_FILE) -> Holidays:
        """Read and validate the holiday data file."""
        try:
            parsed = HolidayFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except ValidationError as exc:
            raise ValueError(f"{path}: {format_errors(exc)}") from exc
        off: dict[date, str] = {}
        workdays: dict[date, str] = {}
        for data in parsed.years.values():
            for span in data.holidays:
                off.update({d: span.name for d in _days(span.start, span.end)})
            workdays.update({wd.date: wd.reason for wd in data.workdays})
        return cls(off, workdays, {y: d.status for y, d in parsed.years.items()})

    def kind(self, day: date) -> DayKind:
        """Classify a date: working day, 调休 workday, holiday or weekend."""
        if day in self.workdays:
            return DayKind.adjusted_workday
        if day in self.off:
            return DayKind.holiday
        return DayKind.workday if day.weekday() < 5 else DayKind.weekend

    def is_working_day(self, day: date) -> bool:
        """True for Mon–Fri that are not holidays, and for 调休 workdays."""
        return self.kind(day) in (DayKind.workday, DayKind.adjusted_workday)


class HallCalendar:
    """Opening hours of one hall on the national calendar, in the hall's time zone."""

    def __init__(self, hours: OpeningHours, holidays: Holidays) -> None:
        self.hours = hours
        self.holidays = holidays
        self.zone: ZoneInfo = hours.zone

    def local(self, t: datetime) -> datetime:
        """The instant in the hall's time zone; naive datetimes are refused."""
        if t.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (hall clock)")
        return t.astimezone(self.zone)

    def sessions(self, day: date) -> tuple[Session, ...]:
        """The opening sessions of a local date (empty when closed all day)."""
        kind = self.holidays.kind(day)
        if kind in (DayKind.workday, DayKind.adjusted_workday):
            return self.hours.weekday
        if kind is DayKind.holiday:
            return self.hours.saturday if self.hours.holiday_service else ()
        return self.hours.saturday if day.weekday() == 5 else self.hours.sunday

    def periods(self, day: date, flex_minutes: int = 0) -> list[tuple[datetime, datetime]]:
        """Aware (start, end) of each session of a day, the day widened by flex minutes at both ends."""
        result = []
        for s in self.sessions(day):
            start = datetime.combine(day, s.start, self.zone)
            end = datetime.combine(day, s.end, self.zone)
            result.append((start, end))
        if result and flex_minutes:
            flex = timedelta(minutes=flex_minutes)
            result[0] = (result[0][0] - flex, result[0][1])
            result[-1] = (result[-1][0], result[-1][1] + flex)
        return result

    def is_open(self, t: datetime) -> bool:
        """True when walk-in service is open at t."""
        lt = self.local(t)
        return any(start <= lt < end for start, end in self.periods(lt.date()))

    def is_open_for_appointments(self, t: datetime) -> bool:
        """True when booked citizens are served at t (早晚弹性办 widens the day)."""
        lt = self.local(t)
        flex = self.hours.appointment_flex_minutes
        return any(start <= lt < end for start, end in self.periods(lt.date(), flex))

    def next_opening(self, t: datetime) -> datetime | None:
        """The next instant walk-in service opens, strictly after t (None if nothing in 60 days)."""
        lt = self.local(t)
        for offset in range(SEARCH_DAYS + 1):
            for start, _end in self.periods(lt.date() + timedelta(days=offset)):
                if start > lt:
                    return start
        return None

    def closing_time(self, t: datetime) -> datetime | None:
        """The end of the session open at t, or None when closed."""
        lt = self.local(t)
        return next((end for start, end in self.periods(lt.date()) if start <= lt < end), None)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after day (受理之日起 n 个工作日); n = 0 returns day itself."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        remaining = n
        while remaining:
            current += timedelta(days=1)
            if self.holidays.is_working_day(current):
                remaining -= 1
        return current

    def covers(self, year: int) -> str | None:
        """The holiday data status for a year (official/provisional), None when not covered."""
        return self.holidays.years.get(year)
