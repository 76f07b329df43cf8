"""The reports page's server-rendered SVG charts."""

from __future__ import annotations

from xml.etree import ElementTree

from app.reports.charts import Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(
        svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def test_bars_are_as_tall_as_their_values_and_described_in_words() -> None:
    svg = bar_chart(
        "Calls by topic",
        ["billing", "<tech>"],
        [Series("offered", "offered", [40, 10]), Series("answered", "answered", [30, None])],
    )
    root = _parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = {r.find(f"{SVG}title").text: float(r.get("height", "0")) for r in bars}  # type: ignore[union-attr]
    assert set(heights) == {"billing: offered 40", "billing: answered 30", "<tech>: offered 10"}
    # The axis tops at 50: 40 is four fifths of the bar area.
    assert heights["billing: offered 40"] == 176.0
    assert heights["<tech>: offered 10"] == 44.0
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == "billing: offered 40, answered 30; <tech>: offered 10, answered none"


def test_shares_are_drawn_against_one_hundred_percent() -> None:
    svg = bar_chart(
        "Service level", ["Mon"], [Series("service level", "level", [0.75])], percent=True
    )
    root = _parse(svg)
    (bar,) = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert float(bar.get("height", "0")) == 165.0
    assert bar.find(f"{SVG}title").text == "Mon: service level 75%"  # type: ignore[union-attr]


def test_an_empty_report_still_draws_its_axes() -> None:
    root = _parse(bar_chart("Nothing yet", [], [Series("offered", "offered", [])]))
    assert len(list(root.iter(f"{SVG}line"))) == 3
