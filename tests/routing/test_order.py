"""The ringing order: language, then skill, then the strategy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.routing.order import Person, order

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def person(
    sid: int,
    *,
    idle: int | None = None,
    langs: tuple[str, ...] = ("en",),
    skills: tuple[str, ...] = (),
) -> Person:
    since = T0 + timedelta(minutes=idle) if idle is not None else None
    return Person(sid, f"p{sid}", f"+1415555{sid:04d}", "t", langs, skills, since, "on shift")


def ids(people: list[Person]) -> list[int]:
    return [p.specialist_id for p in people]


def test_longest_idle_puts_people_without_calls_first_then_the_earliest_finish() -> None:
    people = [person(1, idle=30), person(2, idle=5), person(3), person(4, idle=5)]
    assert ids(order(people, language="en", skill=None, strategy="longest_idle")) == [3, 2, 4, 1]


def test_skill_comes_before_the_strategy_and_language_before_skill() -> None:
    people = [
        person(1),
        person(2, idle=50, skills=("billing",)),
        person(3, langs=("ja",), skills=("billing",)),
    ]
    got = order(people, language="en", skill="billing", strategy="longest_idle")
    assert ids(got) == [2, 1, 3]


def test_round_robin_starts_after_the_last_person_offered_and_wraps() -> None:
    people = [person(5), person(1), person(9), person(3)]
    assert ids(
        order(people, language="en", skill=None, strategy="round_robin", last_offered=3)
    ) == [5, 9, 1, 3]
    assert ids(
        order(people, language="en", skill=None, strategy="round_robin", last_offered=9)
    ) == [1, 3, 5, 9]
    assert ids(order(people, language="en", skill=None, strategy="round_robin")) == [1, 3, 5, 9]


def test_fixed_order_ignores_idle_time() -> None:
    people = [person(2, idle=1), person(1, idle=100)]
    assert ids(order(people, language="en", skill=None, strategy="fixed_order")) == [1, 2]


@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=12, unique=True),
    st.integers(1, 50),
)
def test_round_robin_over_a_whole_turn_offers_everyone_once(members: list[int], last: int) -> None:
    people = [person(sid) for sid in members]
    seen: list[int] = []
    for _ in members:
        first = order(people, language="en", skill=None, strategy="round_robin", last_offered=last)[
            0
        ]
        seen.append(first.specialist_id)
        last = first.specialist_id
    assert sorted(seen) == sorted(members)
