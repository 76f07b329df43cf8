"""`driver_sql`'s parameter order: a compiled statement's row values picked as SQLAlchemy's
`construct_params` picks them, for every `Compiled` statement of the app, on both dialects."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Integer, String, bindparam, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import CompileError

import app.main  # noqa: F401 - imports every module, so every Compiled statement exists
from app.calls import records
from app.core.driver_sql import Compiled, _Form, _ordered
from app.models.base import UTCDateTime

DIALECTS = [sqlite.dialect(), postgresql.asyncpg.dialect()]  # type: ignore[attr-defined]


def _statements() -> list[Compiled]:
    # Statements built on first use, per the columns they write: one of each shape.
    for changed in ((), ("status", "ended_at", "duration", "outcome", "updated_at")):
        records._ending_call_postgresql(changed)
    return [o for o in gc.get_objects() if isinstance(o, Compiled)]


def _as_sqlalchemy(form: _Form, params: dict[str, Any]) -> list[Any]:
    values = form.compiled.construct_params(params, _check=False)
    ordered = [values[name] for name in form.names]
    for index, process in form.binds:
        ordered[index] = process(ordered[index])
    return ordered


def _rows(form: _Form) -> list[dict[str, Any]]:
    keys = sorted({bind.key for bind in form.compiled.bind_names})
    full = {key: f"value of {key}" for key in keys}
    half = {key: f"value of {key}" for key in keys[::2]}
    nothing = {key: None for key in keys}  # every bind processor takes None
    return [nothing, {key: None for key in keys[1::2]}, full, half]


def test_the_app_has_compiled_statements_to_check() -> None:
    assert len(_statements()) >= 10


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_every_compiled_statement_orders_its_row_as_sqlalchemy_does(dialect: Any) -> None:
    checked = compiled = 0
    for statement in _statements():
        try:
            form = statement.form(dialect)
        except (AttributeError, NotImplementedError, CompileError):
            continue  # written for the other database (ON CONFLICT, arrays), never run here
        compiled += 1
        for row in _rows(form):
            try:
                expected = _as_sqlalchemy(form, row)
            except (TypeError, ValueError, AttributeError):
                continue  # a bind processor refused the made-up value: both would
            assert _ordered(form, row) == expected, (form.text, row)
            checked += 1
    assert checked >= 2 * compiled  # at least the rows of Nones, for every statement


def test_defaults_repeats_and_callables_come_out_as_construct_params_gives_them() -> None:
    at = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    statement = Compiled(
        select(
            literal("fixed", String),
            bindparam("n", type_=Integer) + bindparam("n", type_=Integer),
            bindparam("later", callable_=lambda: "called", type_=String),
            bindparam("given", value="own value", type_=String),
            text(":free").bindparams(bindparam("free", type_=String)),
        ).where(bindparam("at", type_=postgresql.TIMESTAMP(timezone=True)) < at)
    )
    for dialect in DIALECTS:
        form = statement.form(dialect)
        assert form.slots is not None
        for row in ({"n": 2, "at": at, "free": "x"}, {"n": 3, "given": "theirs", "later": "x"}):
            assert _ordered(form, row) == _as_sqlalchemy(form, row)


_INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(instants=st.lists(st.one_of(st.none(), _INSTANTS), min_size=1, max_size=4))
def test_an_instants_one_step_conversion_gives_what_sqlalchemys_two_give(
    dialect: Any, instants: list[datetime | None]
) -> None:
    """A `UTCDateTime` parameter is converted by the type's `driver_bind` in one call: the
    same value SQLAlchemy's processors give (the type's, then the dialect's DATETIME)."""
    checked = 0
    for statement in _statements():
        try:
            form = statement.form(dialect)
        except (AttributeError, NotImplementedError, CompileError):
            continue
        theirs = form.compiled._bind_processors
        for index, process in form.binds:
            name = form.names[index]
            if not isinstance(form.compiled.binds[name].type, UTCDateTime):
                assert process is theirs[name]
                continue
            for instant in instants:
                assert process(instant) == theirs[name](instant), (form.text, name)
            checked += 1
    assert checked >= 10


def test_unevented_objects_hold_what_the_constructor_would() -> None:
    """`unevented` makes the instance the constructor makes, without its events; a name
    that is no column is refused, as the constructor refuses it."""
    from datetime import UTC, datetime

    from app.models.base import unevented
    from app.models.call import Call

    now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    values = {"sid": "CA" + "1" * 32, "from_number": "+15550100", "status": "ringing"}
    made, plain = unevented(Call, started_at=now, **values), Call(started_at=now, **values)
    for name in (attr.key for attr in Call.__mapper__.column_attrs):
        assert getattr(made, name) == getattr(plain, name), name
    made.status = "in-progress"  # still a mapped instance: attributes set as usual
    assert made.__dict__["status"] == "in-progress"
    with pytest.raises(TypeError, match="no column sidd"):
        unevented(Call, sidd="CA1")
