"""Server-rendered SVG charts for the reports page: no script, no chart library to ship.

Each chart is a grouped bar chart with its numbers written on the bars and a <title> and
<desc> for screen readers; the table under it on the page holds the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
BAR_AREA = 220
LEFT = 48
BOTTOM = 64
TOP = 28


@dataclass(frozen=True)
class Series:
    """One kind of bar: its name, CSS class (colour) and a value per label."""

    name: str
    css_class: str
    values: Sequence[float | None]


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least the largest value."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{round(value * 100)}%"
    return f"{value:g}" if value != int(value) else str(int(value))


def _describe(labels: Sequence[str], series: Sequence[Series], percent: bool) -> str:
    """The chart's numbers in words, for screen readers."""

    def one(value: float | None) -> str:
        return "none" if value is None else _number(value, percent)

    return "; ".join(
        f"{label}: " + ", ".join(f"{s.name} {one(s.values[i])}" for s in series)
        for i, label in enumerate(labels)
    )


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
) -> str:
    """A grouped bar chart as an inline SVG element (escaped, ready to place in a page)."""
    height = TOP + BAR_AREA + BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top = 1.0 if percent else _nice_max(max(values, default=0.0))
    slots = max(len(labels), 1)
    slot = (WIDTH - LEFT - 8) / slots
    bar = max(2.0, min(28.0, (slot - 6) / max(len(series), 1)))
    ident = "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower())
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}">{escape(title)}</title>',
        f"<desc>{escape(_describe(labels, series, percent))}</desc>",
    ]
    for tick in (0.0, 0.5, 1.0):
        y = TOP + BAR_AREA * (1 - tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 4}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_number(top * tick, percent))}</text>"
        )
    for i, label in enumerate(labels):
        # The group's bars sit in the middle of its slot, above its label.
        x0 = LEFT + i * slot + 3 + max(0.0, (slot - 6 - bar * len(series)) / 2)
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = BAR_AREA * min(value / top, 1.0)
            x = x0 + j * bar
            y = TOP + BAR_AREA - h
            parts.append(
                f'<rect class="{escape(s.css_class)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar - 1:.1f}" height="{h:.1f}"><title>{escape(label)}: '
                f"{escape(s.name)} {escape(_number(value, percent))}</title></rect>"
            )
        short = label if len(label) <= 12 else label[:11] + "…"
        cx = x0 + bar * len(series) / 2
        parts.append(
            f'<text class="label" x="{cx:.1f}" y="{TOP + BAR_AREA + 16}" '
            f'text-anchor="end" transform="rotate(-35 {cx:.1f} {TOP + BAR_AREA + 16})">'
            f"{escape(short)}</text>"
        )
    legend_x = LEFT
    for s in series:
        parts.append(
            f'<rect class="{escape(s.css_class)}" x="{legend_x}" y="6" width="12" height="12"/>'
            f'<text class="legend" x="{legend_x + 16}" y="16">{escape(s.name)}</text>'
        )
        legend_x += 24 + 8 * len(s.name)
    parts.append("</svg>")
    return "".join(parts)
