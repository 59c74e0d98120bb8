"""Charts as plain geometry for the console's SVG templates: no chart library, no script.

A chart is a fixed-size box with its points already scaled into it; the template draws
lines, bars and labels from these records, and Jinja2 escapes every label it prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 320, 120
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 8, 10, 22


@dataclass(frozen=True)
class Series:
    name: str
    points: str  # "x,y x,y ..." for a <polyline>
    dash: str = ""  # a dash pattern, so series differ by more than colour
    end: tuple[float, float] | None = None  # the last point, marked: a series of one point draws no line


@dataclass(frozen=True)
class Level:
    """A horizontal rule across the plot: a threshold the series are read against."""

    name: str
    value: float
    y: float


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, kw_only=True)
class Box:
    """The drawing area every chart shares: the SVG's size and the plot inside its margins."""

    width: int = WIDTH
    height: int = HEIGHT
    left: int = PAD_LEFT
    top: int = PAD_TOP
    bottom: int = HEIGHT - PAD_BOTTOM
    right: int = WIDTH - PAD_RIGHT


@dataclass(frozen=True)
class Chart(Box):
    title: str
    unit: str
    y_max: float
    x_labels: tuple[str, str]  # the left and right ends of the time axis
    series: list[Series] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    empty: bool = False
    y_min: float = 0.0
    levels: list[Level] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis's top)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def line_chart(
    title: str, unit: str, series: dict[str, Sequence[float | None]], x_labels: tuple[str, str], dashes: Sequence[str] = ("", "4 3")
) -> Chart:
    """Lines over evenly spaced buckets; a None value breaks nothing, it is simply not drawn."""
    values = [v for values in series.values() for v in values if v is not None]
    if not values:
        return Chart(title, unit, 1.0, x_labels, empty=True)
    top = nice_ceiling(max(values))
    drawn = []
    for (name, points), dash in zip(series.items(), dashes, strict=False):
        xy = [(x_of(i, len(points)), y_of(value, top)) for i, value in enumerate(points) if value is not None]
        drawn.append(Series(name, " ".join(f"{x:.1f},{y:.1f}" for x, y in xy), dash))
    return Chart(title, unit, top, x_labels, series=drawn)


def bar_chart(title: str, unit: str, counts: dict[str, float], x_labels: tuple[str, str] = ("", "")) -> Chart:
    """One bar per label, in the order given."""
    if not counts or not any(counts.values()):
        return Chart(title, unit, 1.0, x_labels, empty=True)
    top = nice_ceiling(max(counts.values()))
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(counts)
    bars = []
    for i, (label, value) in enumerate(counts.items()):
        y = y_of(value, top)
        bars.append(Bar(label, value, PAD_LEFT + i * slot + 1, y, max(slot - 2, 1), HEIGHT - PAD_BOTTOM - y))
    return Chart(title, unit, top, x_labels, bars=bars)


def trace_chart(
    title: str,
    unit: str,
    series: dict[str, Sequence[tuple[float, float]]],
    levels: dict[str, float],
    x_labels: tuple[str, str],
    dashes: Sequence[str] = ("", "4 3"),
) -> Chart:
    """Lines of (time, value) points placed by their time, read against `levels`; the axis
    spans every value and level, to whole units, so a negative level has room below zero."""
    values = [v for points in series.values() for _, v in points]
    if not values:
        return Chart(title, unit, 1.0, x_labels, empty=True)
    low, high = math.floor(min(0.0, *values, *levels.values())), math.ceil(max(0.0, *values, *levels.values()))
    high = high if high > low else low + 1
    times = [t for points in series.values() for t, _ in points]
    start, span = min(times), max(max(times) - min(times), 1e-9)
    box = Box()

    def y(value: float) -> float:
        return box.bottom - (box.bottom - box.top) * (value - low) / (high - low)

    def x(t: float) -> float:
        return box.left + (box.right - box.left) * ((t - start) / span if len(set(times)) > 1 else 1.0)

    drawn = []
    for (name, points), dash in zip(series.items(), dashes, strict=False):
        xy = [(x(t), y(v)) for t, v in points]
        end = (round(xy[-1][0], 1), round(xy[-1][1], 1)) if xy else None
        drawn.append(Series(name, " ".join(f"{px:.1f},{py:.1f}" for px, py in xy), dash, end))
    rules = [Level(name, value, round(y(value), 1)) for name, value in {**levels, "": 0.0}.items()]  # "": the zero line
    return Chart(title, unit, float(high), x_labels, series=drawn, y_min=float(low), levels=rules)


def x_of(i: int, n: int) -> float:
    """Where the i-th of n evenly spaced points sits, left to right."""
    return PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * i / max(n - 1, 1)


def y_of(value: float, top: float) -> float:
    """Where `value` sits on an axis from 0 to `top` (clipped at the top)."""
    return HEIGHT - PAD_BOTTOM - (HEIGHT - PAD_BOTTOM - PAD_TOP) * min(value / top, 1.0)
