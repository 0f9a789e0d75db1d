"""Small server-rendered SVG charts: no script, no third-party code, readable without colour.

Every label is escaped; the functions return safe markup ready for a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal


def _fmt(value: Number) -> str:
    value = float(value)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def bar_chart(
    items: Sequence[tuple[str, Number]],
    *,
    title: str = "",
    width: int = 520,
    bar_height: int = 20,
    gap: int = 6,
    label_width: int = 130,
    color: str = "#2558d6",
) -> SafeString:
    """Horizontal bars, one per (label, value), with the value written at the end of each bar."""
    if not items:
        return mark_safe('<p class="muted">No data yet.</p>')
    top = max((float(value) for _, value in items), default=0.0) or 1.0
    plot = width - label_width - 60
    height = len(items) * (bar_height + gap) + gap
    parts = [
        f'<svg class="chart bar-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = max(0.0, float(value)) / top * plot
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" rx="3" fill="{color}">'
            f"<title>{escape(label)}: {escape(_fmt(value))}</title></rect>"
            f'<text x="{label_width + length + 5:.1f}" y="{y + bar_height * 0.7:.1f}">{escape(_fmt(value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(
    points: Sequence[tuple[str, Number]],
    *,
    title: str = "",
    width: int = 520,
    height: int = 160,
    color: str = "#2558d6",
) -> SafeString:
    """A line over evenly spaced points (label, value); first and last labels under the axis."""
    if not points:
        return mark_safe('<p class="muted">No data yet.</p>')
    left, right, top_pad, bottom = 40, 10, 10, 22
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max(float(value) for _, value in points) or 1.0
    step = plot_w / max(1, len(points) - 1)
    coords = [
        (left + index * step, top_pad + plot_h - max(0.0, float(value)) / top * plot_h)
        for index, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<svg class="chart line-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" y2="{top_pad + plot_h}" stroke="#e4e7ec"/>',
        f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{escape(_fmt(top))}</text>',
        f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
        f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>',
    ]
    for (x, y), (label, value) in zip(coords, points):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{escape(label)}: {escape(_fmt(value))}</title></circle>')
    parts.append(f'<text x="{left}" y="{height - 6}">{escape(points[0][0])}</text>')
    if len(points) > 1:
        parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def sparkline(values: Sequence[Number], *, width: int = 120, height: int = 28, color: str = "#2558d6") -> SafeString:
    """A tiny trend line without axes, for tables."""
    if not values:
        return mark_safe("")
    top = max(float(v) for v in values) or 1.0
    step = width / max(1, len(values) - 1)
    path = " ".join(f"{i * step:.1f},{height - 2 - max(0.0, float(v)) / top * (height - 4):.1f}" for i, v in enumerate(values))
    return mark_safe(
        f'<svg class="chart sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg" aria-hidden="true">'
        f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/></svg>'
    )
