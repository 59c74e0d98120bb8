"""The promotion report's chart: each scale on its own axis, every bar labelled with its value."""

from __future__ import annotations

import re

from movie_r_agents.report import CHART_HEIGHT, render_chart

CHAMPION = {"ndcg@10": 0.10, "coverage": 0.25, "popularity_pct@10": 95.0}
CHALLENGER = {"ndcg@10": 0.12, "coverage": 0.30, "popularity_pct@10": 96.0}


def bar_heights(svg: str) -> dict[tuple[str, float], float]:
    bars = re.findall(r'height="([\d.]+)" fill="[^"]+" data-metric="([^"]+)" data-value="([^"]+)"', svg)
    return {(metric, float(value)): float(height) for height, metric, value in bars}


def test_a_percentile_does_not_flatten_the_fractions_beside_it() -> None:
    svg = render_chart(list(CHALLENGER), {"evaluation": {"metrics": CHAMPION}}, {"evaluation": {"metrics": CHALLENGER}})
    heights = bar_heights(svg)
    assert heights[("coverage", 0.30)] == CHART_HEIGHT  # the largest fraction spans its axis
    assert abs(heights[("ndcg@10", 0.12)] - CHART_HEIGHT * 0.12 / 0.30) < 0.1
    assert abs(heights[("popularity_pct@10", 96.0)] - CHART_HEIGHT * 0.96) < 0.1  # against 0-100, not against 0.3
    assert "percentile: 0–100" in svg and "fraction: 0–0.3" in svg
    for value in ("0.12", "0.3", "96"):  # raw values, not scaled ones, on the bars
        assert f">{value}</text>" in svg
