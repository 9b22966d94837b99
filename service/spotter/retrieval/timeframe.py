"""Turns "last week", "yesterday" or "my last leg day" into dates in the user's own calendar.

Questions about a user's history are answered from the workout log by date, not by similarity:
"what did I squat last week?" must return exactly last week's sessions, so the time expression
is resolved here against the user's local "today" before the repository is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Latest", "TimeFrame", "local_today", "resolve_timeframe"]


@dataclass(frozen=True, slots=True)
class TimeFrame:
    """An inclusive range of local calendar dates."""

    date_from: date
    date_to: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.date_from <= day <= self.date_to


@dataclass(frozen=True, slots=True)
class Latest:
    """No range: the question asks for the most recent matching workout ("my last leg day")."""


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The calendar date in `timezone` (an IANA name the caller has validated) at `now`."""
    instant = now if now is not None else datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(timezone)).date()


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "couple": 2,
    "few": 3, "thirty": 30,
}  # fmt: skip
_NUMBER = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_WEEKDAY = "(" + "|".join(_WEEKDAYS) + ")"
_MONTH = "(" + "|".join(_MONTHS) + ")"
_ISO = r"(\d{4}-\d{2}-\d{2})"

_ISO_RANGE = re.compile(rf"(?:from|between)\s+{_ISO}\s+(?:to|and|until|-)\s+{_ISO}")
_ISO_SINCE = re.compile(rf"since\s+{_ISO}")
_ISO_DATE = re.compile(_ISO)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b"
    rf"|\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"
)
_LAST_N = re.compile(
    rf"\b(?:last|past|previous|recent)\s+(?:the\s+)?{_NUMBER}\s+(?:of\s+)?(day|week|month)s?\b"
    rf"|\b{_NUMBER}\s+(day|week|month)s?\s+ago\b"
)
_WEEKDAY_PHRASE = re.compile(rf"\b(?:(last|this|past|on)\s+)?{_WEEKDAY}s?\b")
_MONTH_PHRASE = re.compile(rf"\b(?:in|during|for|of|this|last)\s+{_MONTH}\b")
# "my last leg day", "the last time I squatted", "most recent session": a latest marker.
_LATEST = re.compile(
    r"\b(?:last|latest|most\s+recent|previous)\s+"
    r"(?:(?:[a-z-]+\s+){0,3}(?:day|session|workout|run|ride|swim|class|time|one|training|lift)s?\b)"
    r"|\blast\s+time\b|\bwhen\s+did\s+i\s+last\b|\bi\s+last\b"
    r"|\bmy\s+(?:last|latest|most\s+recent|previous)\b"
)


def resolve_timeframe(text: str, today: date) -> TimeFrame | Latest | None:
    """The dates `text` refers to, relative to `today` (the user's local date), if any.

    Weeks run Monday to Sunday. "last week" is the previous calendar week, "past week" and
    "last N days" are rolling windows ending today, "last Tuesday" is the latest Tuesday
    before today and "on Tuesday" the latest one on or before today.
    """
    q = " ".join(text.lower().replace("\u2019", "'").split())
    found = _explicit_dates(q, today)
    if found is not None:
        return found
    for resolve in (_fixed_phrases, _rolling_window, _weekday, _month):
        found = resolve(q, today)
        if found is not None:
            return found
    if _LATEST.search(q):
        return Latest()
    return None


def _explicit_dates(q: str, today: date) -> TimeFrame | None:
    if m := _ISO_RANGE.search(q):
        first, second = _parse_iso(m.group(1)), _parse_iso(m.group(2))
        if first and second:
            return TimeFrame(min(first, second), max(first, second))
    if (m := _ISO_SINCE.search(q)) and (since := _parse_iso(m.group(1))):
        return TimeFrame(since, max(since, today))
    days = [d for d in (_parse_iso(s) for s in _ISO_DATE.findall(q)) if d is not None]
    days += [d for m in _DAY_MONTH.finditer(q) if (d := _recent_day_of_month(m, today))]
    if days:
        return TimeFrame(min(days), max(days))
    return None


def _fixed_phrases(q: str, today: date) -> TimeFrame | None:
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    phrases: tuple[tuple[str, TimeFrame], ...] = (
        (r"\bday before yesterday\b", _day(today - timedelta(days=2))),
        (r"\byesterday\b|\blast night\b", _day(today - timedelta(days=1))),
        (r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", _day(today)),
        (r"\b(?:past|last) (?:7 days|seven days)\b|\bpast week\b|\b(?:in|over) the last week\b",
         TimeFrame(today - timedelta(days=6), today)),
        (r"\b(?:last|previous) week\b|\bthe week before\b",
         TimeFrame(monday - timedelta(days=7), monday - timedelta(days=1))),
        (r"\b(?:this|current) week\b|\bso far this week\b",
         TimeFrame(monday, monday + timedelta(days=6))),
        (r"\b(?:last|previous) weekend\b",
         TimeFrame(monday - timedelta(days=2), monday - timedelta(days=1))),
        (r"\bthis weekend\b", TimeFrame(monday + timedelta(days=5), monday + timedelta(days=6))),
        (r"\b(?:last|previous) month\b", _month_range(_previous_month(month_start))),
        (r"\b(?:this|current) month\b", TimeFrame(month_start, _month_end(month_start))),
        (r"\b(?:last|previous|past) year\b", TimeFrame(date(today.year - 1, 1, 1),
                                                     date(today.year - 1, 12, 31))),
        (r"\bthis year\b", TimeFrame(date(today.year, 1, 1), date(today.year, 12, 31))),
    )  # fmt: skip
    for pattern, frame in phrases:
        if re.search(pattern, q):
            return frame
    return None


def _rolling_window(q: str, today: date) -> TimeFrame | None:
    m = _LAST_N.search(q)
    if m is None:
        return None
    if m.group(1) is not None:
        count, unit, ago = _number(m.group(1)), m.group(2), False
    else:
        count, unit, ago = _number(m.group(3)), m.group(4), True
    if count < 1:
        return None
    span = {"day": 1, "week": 7, "month": 30}[unit] * count
    if ago:  # "3 days ago" is one day; "2 weeks ago" is that calendar week
        if unit == "day":
            return _day(today - timedelta(days=span))
        if unit == "week":
            monday = today - timedelta(days=today.weekday() + span)
            return TimeFrame(monday, monday + timedelta(days=6))
        start = today.replace(day=1)
        for _ in range(count):
            start = _previous_month(start)
        return _month_range(start)
    return TimeFrame(today - timedelta(days=span - 1), today)


def _weekday(q: str, today: date) -> TimeFrame | None:
    m = _WEEKDAY_PHRASE.search(q)
    if m is None:
        return None
    qualifier, weekday = m.group(1), _WEEKDAYS.index(m.group(2))
    back = (today.weekday() - weekday) % 7
    if qualifier == "this":
        return _day(today - timedelta(days=today.weekday()) + timedelta(days=weekday))
    if qualifier in {"last", "past"} and back == 0:
        back = 7
    return _day(today - timedelta(days=back))


def _month(q: str, today: date) -> TimeFrame | None:
    m = _MONTH_PHRASE.search(q)
    if m is None:
        return None
    month = _MONTHS.index(m.group(1)) + 1
    year = today.year if month <= today.month else today.year - 1
    return _month_range(date(year, month, 1))


def _recent_day_of_month(m: re.Match[str], today: date) -> date | None:
    """ "18 November" is the latest 18 November on or before today."""
    day_text, month_name = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    month = _MONTHS.index(month_name) + 1
    day = int(day_text)
    for year in range(today.year, today.year - 5, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 31 April never exists; 29 February only in leap years
            if not (month == 2 and day == 29):
                return None
            continue
        if candidate <= today:
            return candidate
    return None


def _parse_iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _day(day: date) -> TimeFrame:
    return TimeFrame(day, day)


def _previous_month(month_start: date) -> date:
    return (month_start - timedelta(days=1)).replace(day=1)


def _month_end(month_start: date) -> date:
    return (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _month_range(month_start: date) -> TimeFrame:
    return TimeFrame(month_start, _month_end(month_start))
