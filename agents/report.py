"""Evaluation reports: `reports/<version>.json` for machines, `.html` with a chart for people."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from movie_r.storage.files import write_json_atomic, write_text_atomic
from movie_r.storage.layout import ReportsLayout

BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 28, 70, 220
COLOURS = {"champion": "#7a869a", "challenger": "#2f80ed"}
# each scale's axis: a fixed top (percentiles end at 100), or None for the largest value shown
SCALES: dict[str, float | None] = {"fraction": None, "percentile": 100.0}


def write_report(reports_dir: Path, version: str, report: dict[str, Any]) -> tuple[Path, Path]:
    """Write both files atomically; returns their paths."""
    json_path = ReportsLayout(reports_dir).report(version, ".json")
    html_path = ReportsLayout(reports_dir).report(version, ".html")
    write_json_atomic(json_path, report)
    write_text_atomic(html_path, render_html(report))
    return json_path, html_path


def render_html(report: dict[str, Any]) -> str:
    champion = report.get("champion") or {}
    challenger = report["challenger"]
    metrics = list(challenger["evaluation"]["metrics"])
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_number(champion.get('evaluation', {}).get('metrics', {}).get(name))}</td>"
        f"<td>{_number(challenger['evaluation']['metrics'][name])}</td></tr>"
        for name in metrics
    )
    candidates = "".join(
        f"<tr><td>{html.escape(c['name'])} ({html.escape(c['kind'])})</td><td><code>{html.escape(json.dumps(c['params_changed']))}</code></td>"
        f"<td>{_number(c['score'])}</td><td>{c['train_seconds']:.1f} s</td></tr>"
        for c in report.get("candidates", [])
    )
    verdict = report["verdict"]
    reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in verdict["reasons"])
    guardrails = "".join(
        f"<li><b>{'pass' if g['passed'] else 'FAIL'}</b> {html.escape(g['name'])}: {html.escape(g['detail'])}</li>" for g in verdict["guardrails"]
    )
    data = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(d.get('path')))}</td><td>{d.get('rows')}</td>"
        f"<td><code>{html.escape(str(d.get('sha256', ''))[:16])}…</code></td></tr>"
        for name, d in report.get("data", {}).items()
    )
    title = f"movie_r challenger {challenger['version']}"
    outcome = "PROMOTED" if verdict["promote"] else "REJECTED"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:960px;color:#1f2933}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #d9e2ec;padding:.3rem .6rem;text-align:left}}
.verdict{{font-size:1.4rem;font-weight:bold;color:{'#1b873f' if verdict['promote'] else '#c0392b'}}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p class="verdict">{outcome}</p>
<p>Generated {html.escape(report['time'])}; champion {html.escape(str(champion.get('version', 'none')))};
protocol <b>{html.escape(challenger['evaluation']['protocol'])}</b>, primary score <b>{html.escape(challenger['evaluation']['score_name'])}</b>
on {challenger['evaluation']['n_queries']} queries of the current data (both models on the same queries).</p>
<h2>Why</h2><ul>{reasons}</ul>
<h2>Guardrails</h2><ul>{guardrails}</ul>
<h2>Champion and challenger, metric by metric</h2>
{render_chart(metrics, champion, challenger)}
<table><tr><th>metric</th><th>champion</th><th>challenger</th></tr>{rows}</table>
<h2>Candidates trained this tick</h2>
<table><tr><th>name</th><th>parameters changed</th><th>score</th><th>training</th></tr>{candidates}</table>
<h2>Data</h2><table><tr><th>input</th><th>path</th><th>rows</th><th>sha256</th></tr>{data}</table>
</body></html>
"""


def render_chart(metrics: list[str], champion: dict[str, Any], challenger: dict[str, Any]) -> str:
    """Grouped bars, one pair per metric, as inline SVG (no plotting library needed).

    Metrics come on two scales: fractions (NDCG, recall, coverage: 0-1) and percentiles
    (`popularity_pct@10`: 0-100). Each scale has its own axis, drawn apart with its range,
    so a percentile does not flatten every fraction to nothing; every bar is labelled with
    its raw value.
    """
    series = {
        "champion": champion.get("evaluation", {}).get("metrics", {}),
        "challenger": challenger["evaluation"]["metrics"],
    }
    groups = [[name for name in metrics if _scale(name) == scale] for scale in SCALES]
    groups = [group for group in groups if group]
    width = sum(len(group) * (2 * BAR_WIDTH + BAR_GAP) for group in groups) + BAR_GAP * len(groups)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{CHART_HEIGHT + 76}" role="img">']
    x = 0
    for group in groups:
        scale = _scale(group[0])
        top = SCALES[scale] or max([values.get(n) or 0.0 for values in series.values() for n in group] + [1e-9])
        parts.append(
            f'<line x1="{x + BAR_GAP / 2}" y1="20" x2="{x + BAR_GAP / 2}" y2="{CHART_HEIGHT + 20}" stroke="#9aa5b1"/>'
            f'<text x="{x + 4}" y="14" font-size="10">{html.escape(scale)}: 0–{top:.3g}</text>'
        )
        for index, name in enumerate(group):
            left_of_pair = x + BAR_GAP + index * (2 * BAR_WIDTH + BAR_GAP)
            for offset, (label, values) in enumerate(series.items()):
                value = values.get(name)
                if value is None:
                    continue
                height = CHART_HEIGHT * max(value, 0.0) / top
                left = left_of_pair + offset * BAR_WIDTH
                parts.append(
                    f'<rect x="{left}" y="{CHART_HEIGHT - height + 20:.1f}" width="{BAR_WIDTH - 2}" height="{height:.1f}" '
                    f'fill="{COLOURS[label]}" data-metric="{html.escape(name)}" data-value="{value:.6g}">'
                    f"<title>{label} {html.escape(name)} {value:.4f}</title></rect>"
                )
                parts.append(f'<text x="{left}" y="{CHART_HEIGHT - height + 16:.1f}" font-size="9">{value:.3g}</text>')
            parts.append(f'<text x="{left_of_pair}" y="{CHART_HEIGHT + 38}" font-size="11">{html.escape(name)}</text>')
        x += len(group) * (2 * BAR_WIDTH + BAR_GAP) + BAR_GAP
    for offset, label in enumerate(series):
        parts.append(f'<rect x="{10 + offset * 110}" y="{CHART_HEIGHT + 56}" width="10" height="10" fill="{COLOURS[label]}"/>')
        parts.append(f'<text x="{24 + offset * 110}" y="{CHART_HEIGHT + 65}" font-size="11">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _scale(metric: str) -> str:
    return "percentile" if "pct" in metric else "fraction"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
