"""The lieu ledger: earned, taken, cancelled, outstanding, weeks without a weekend."""

from __future__ import annotations

from datetime import date, time

from app.rota.calculator import lieu_ledger
from app.rota.ledger import LedgerRow
from app.rota.rules import LieuRule, ManualDayOff

from .helpers import rota, utc, version

A, B, C, D = 1, 2, 3, 4
WEEKDAYS = version(rotation_id=1, members=(A, B, C, D), anchor=date(2024, 7, 1))
WEEKENDS = version(
    rotation_id=2,
    members=(A, B, C),
    days=frozenset({5, 6}),
    start=time(9),
    end=time(17),
    anchor=date(2024, 8, 3),
    assignment="turns",
    earns_lieu=True,
    lieu_rule=LieuRule.fixed(1),
)


def test_ledger_counts() -> None:
    # Weekends: Aug 3 A, 4 B, 10 C, 11 A, 17 B, 18 C (24 and 25 are after "now").
    # Tuesdays off: A Aug 6, 13; B Aug 6 (cancelled), 20; C Aug 13, 20; C also Aug 21 by hand.
    r = rota(
        [WEEKDAYS, WEEKENDS],
        lieu_adjustments={"2:2024-08-04:2": None},
        manual_days_off=[ManualDayOff(1, C, date(2024, 8, 21))],
    )
    rows = lieu_ledger(r, utc(2024, 8, 1), utc(2024, 8, 26), now=utc(2024, 8, 21, 12))
    assert rows == [
        LedgerRow(A, earned=2, taken=2, cancelled=0, outstanding=0,
                  weeks_without_weekend=(date(2024, 8, 12),)),
        LedgerRow(B, earned=2, taken=1, cancelled=1, outstanding=1,
                  weeks_without_weekend=(date(2024, 8, 5),)),
        LedgerRow(C, earned=2, taken=3, cancelled=0, outstanding=-1,
                  weeks_without_weekend=()),
    ]  # fmt: skip


def test_ledger_range_ends_before_now() -> None:
    r = rota([WEEKDAYS, WEEKENDS])
    rows = lieu_ledger(r, utc(2024, 8, 1), utc(2024, 8, 6), now=utc(2024, 9, 1))
    assert [(row.specialist_id, row.earned, row.taken) for row in rows] == [
        (A, 1, 0),
        (B, 1, 0),
        (C, 0, 0),
    ]


def test_ledger_before_anything_happened() -> None:
    r = rota([WEEKDAYS, WEEKENDS])
    rows = lieu_ledger(r, utc(2024, 8, 1), utc(2024, 9, 1), now=utc(2024, 7, 1))
    assert [(row.specialist_id, row.earned, row.outstanding) for row in rows] == [
        (A, 0, 0),
        (B, 0, 0),
        (C, 0, 0),
    ]
