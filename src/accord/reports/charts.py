"""Server-rendered SVG charts. Only numbers go into the markup; labels are escaped."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def sparkline(values: list[float | None], *, width: int = 140, height: int = 36, label: str = "") -> SafeString:
    """A line over the known values; gaps where a month has no value."""
    known = [v for v in values if v is not None]
    if not known:
        return format_html(
            '<svg class="chart sparkline" width="{}" height="{}" role="img" aria-label="{}"><text x="0" y="{}">no data</text></svg>',
            width, height, label or "trend", height - 10,
        )
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    last_point = ""
    for i, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        x = i * step
        y = height - 4 - (value - low) / span * (height - 8)
        last_point = f"{x:.1f},{y:.1f}"
        segments[-1].append(last_point)
    paths = "".join(
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.6" points="{" ".join(seg)}"/>' for seg in segments if seg
    )
    cx, cy = last_point.split(",")
    dot = f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="currentColor"/>'
    return mark_safe(
        f'<svg class="chart sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label or "trend")}">{paths}{dot}</svg>'
    )


def bars(items: list[tuple[str, float, str]], *, width: int = 520, bar: int = 22) -> SafeString:
    """Horizontal bars: (label, value, caption) — the funnel and the ROI comparison."""
    if not items:
        return mark_safe("")
    top = max((value for _, value, _ in items), default=0) or 1.0
    label_w = 130
    height = len(items) * (bar + 6)
    parts = [f'<svg class="chart bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value, caption) in enumerate(items):
        y = i * (bar + 6)
        w = max((width - label_w - 90) * (value / top), 0)
        parts.append(
            f'<text x="0" y="{y + bar * 0.7:.1f}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" rx="3" class="bar"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar * 0.7:.1f}">{escape(caption)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
