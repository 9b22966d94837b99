"""Time expressions resolve to the user's own calendar dates, against a fixed "today"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from spotter.retrieval.timeframe import Latest, TimeFrame, local_today, resolve_timeframe

# A Wednesday. The previous calendar week is Monday 9 to Sunday 15 November 2026.
WEDNESDAY = date(2026, 11, 18)


def frame(first: str, last: str | None = None) -> TimeFrame:
    return TimeFrame(date.fromisoformat(first), date.fromisoformat(last or first))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did I squat last week?", frame("2026-11-09", "2026-11-15")),
        ("how much volume did I do the previous week", frame("2026-11-09", "2026-11-15")),
        ("What have I done this week?", frame("2026-11-16", "2026-11-22")),
        ("What did I do yesterday?", frame("2026-11-17")),
        ("How was my run last night", frame("2026-11-17")),
        ("What did I log today?", frame("2026-11-18")),
        ("the day before yesterday I benched", frame("2026-11-16")),
        ("my runs in the last 3 days", frame("2026-11-16", "2026-11-18")),
        ("past 10 days of training", frame("2026-11-09", "2026-11-18")),
        ("last two weeks", frame("2026-11-05", "2026-11-18")),
        ("over the last couple of weeks", frame("2026-11-05", "2026-11-18")),
        ("in the past week", frame("2026-11-12", "2026-11-18")),
        ("over the last week", frame("2026-11-12", "2026-11-18")),
        ("the last 7 days", frame("2026-11-12", "2026-11-18")),
        ("what did I do 3 days ago", frame("2026-11-15")),
        ("what did I do two weeks ago", frame("2026-11-02", "2026-11-08")),
        ("a month ago", frame("2026-10-01", "2026-10-31")),
        ("What did I train this month?", frame("2026-11-01", "2026-11-30")),
        ("What did I train last month?", frame("2026-10-01", "2026-10-31")),
        ("What did I do on Monday?", frame("2026-11-16")),
        ("what about wednesday", frame("2026-11-18")),
        ("What did I do last Tuesday?", frame("2026-11-17")),
        ("last Wednesday's session", frame("2026-11-11")),
        ("How was Thursday?", frame("2026-11-12")),
        ("this Friday", frame("2026-11-20")),
        ("last weekend's long run", frame("2026-11-14", "2026-11-15")),
        ("What did I lift on 2026-11-03?", frame("2026-11-03")),
        ("from 2026-10-20 to 2026-10-01", frame("2026-10-01", "2026-10-20")),
        ("between 2026-10-01 and 2026-10-20", frame("2026-10-01", "2026-10-20")),
        ("every session since 2026-11-10", frame("2026-11-10", "2026-11-18")),
        ("What did I do on 3 November?", frame("2026-11-03")),
        ("what did I do on November 3rd", frame("2026-11-03")),
        ("on 24 December", frame("2025-12-24")),
        ("what did I do in March", frame("2026-03-01", "2026-03-31")),
        ("during December", frame("2025-12-01", "2025-12-31")),
        ("how many sessions last year", frame("2025-01-01", "2025-12-31")),
        ("this year", frame("2026-01-01", "2026-12-31")),
    ],
)
def test_ranges_resolve_against_today(question: str, expected: TimeFrame) -> None:
    assert resolve_timeframe(question, WEDNESDAY) == expected


@pytest.mark.parametrize(
    "question",
    [
        "How did my last leg day go?",
        "what weight did I use in my last squat session",
        "When did I last deadlift?",
        "the last time I ran 10k",
        "show me my most recent workout",
        "my latest bench numbers",
        "previous session notes",
    ],
)
def test_latest_questions_have_no_range(question: str) -> None:
    assert resolve_timeframe(question, WEDNESDAY) == Latest()


@pytest.mark.parametrize(
    "question",
    [
        "How do I squat deeper?",
        "What is a deload week?",
        "How many sets per week should I do for chest?",
        "What may I eat before training?",
        "Is 2026-13-45 a date?",
        "Give me a push pull legs split",
    ],
)
def test_questions_without_a_time_expression(question: str) -> None:
    assert resolve_timeframe(question, WEDNESDAY) is None


def test_last_week_is_the_previous_calendar_week_on_every_weekday() -> None:
    for offset in range(7):
        today = date(2026, 11, 16 + offset)  # Monday 16 .. Sunday 22
        assert resolve_timeframe("last week", today) == frame("2026-11-09", "2026-11-15")
        assert resolve_timeframe("this week", today) == frame("2026-11-16", "2026-11-22")


def test_last_weekday_named_today_means_a_week_ago() -> None:
    assert resolve_timeframe("last Wednesday", WEDNESDAY) == frame("2026-11-11")
    assert resolve_timeframe("on Wednesday", WEDNESDAY) == frame("2026-11-18")


def test_month_and_year_boundaries() -> None:
    new_year = date(2027, 1, 2)
    assert resolve_timeframe("last month", new_year) == frame("2026-12-01", "2026-12-31")
    assert resolve_timeframe("last week", new_year) == frame("2026-12-21", "2026-12-27")
    assert resolve_timeframe("yesterday", date(2028, 3, 1)) == frame("2028-02-29")
    assert resolve_timeframe("this month", date(2028, 2, 10)) == frame("2028-02-01", "2028-02-29")
    assert resolve_timeframe("on 29 February", date(2027, 6, 1)) == frame("2024-02-29")
    assert resolve_timeframe("on 31 April", WEDNESDAY) is None


def test_timeframe_contains_its_inclusive_bounds() -> None:
    week = frame("2026-11-09", "2026-11-15")
    assert date(2026, 11, 9) in week
    assert date(2026, 11, 15) in week
    assert date(2026, 11, 16) not in week


def test_local_today_follows_the_users_timezone() -> None:
    instant = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
    assert local_today("UTC", instant) == date(2026, 11, 18)
    assert local_today("Pacific/Auckland", instant) == date(2026, 11, 19)
    assert local_today("America/Los_Angeles", datetime(2026, 11, 18, 5, 0, tzinfo=UTC)) == date(
        2026, 11, 17
    )
    assert local_today("Europe/Berlin", datetime(2026, 11, 18, 23, 30)) == date(2026, 11, 19)
