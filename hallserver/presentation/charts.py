"""Small server-side SVG charts for the reports page: horizontal bars and lines, CJK labels, no library.

The SVG names the system CJK fonts (the hall LAN is offline: no web fonts), escapes every label, and
gives each bar a `class="bar"` and a <title> with the exact value, so the charts are testable and
readable by screen readers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif"
COLORS = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed")
Number = float | int | None
Format = Callable[[float], str]


def _plain(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"


def percent(value: float) -> str:
    """0.953 → 95.3%."""
    return f"{value * 100:.1f}%"


def text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK and full-width characters are square, others about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def clip(text: str, size: float, width: float) -> str:
    """The text, shortened with … to fit `width`."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_max(value: float, integer: bool = False) -> tuple[float, float]:
    """(axis maximum, tick step) with steps of 1, 2 or 5 × 10^k and about five ticks; whole steps for counts."""
    if value <= 0:
        return (1.0, 1.0) if integer else (1.0, 0.2)
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(step, 1)
    return step * math.ceil(value / step - 1e-9), step


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label={quoteattr(title)} '
        f'font-family="{FONT}" font-size="13">'
        f"<title>{escape(title)}</title>"
        f'<text x="12" y="22" font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="{y:.1f}" fill="#374151">{escape(name)}</text>')
        x += 16 + text_width(name, 13) + 18
    return out


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    unit: str = "",
    fmt: Format = _plain,
    width: int = 760,
    max_value: float | None = None,
) -> str:
    """Horizontal bars, one row per label and one bar per series; None draws no bar and says 无数据."""
    names = list(series)
    row_h = 10 + 16 * len(names)
    label_w = min(220.0, max([text_width(lbl, 13) for lbl in labels] + [60.0]) + 12)
    top, left, right = 58.0, label_w + 12, 70.0
    plot_w = width - left - right
    height = top + row_h * max(len(labels), 1) + 34
    values = [v for vs in series.values() for v in vs if v is not None]
    counts = all(isinstance(v, int) for v in values)
    axis_max, step = nice_max(max_value if max_value is not None else max(values, default=0), counts)
    body = _legend([f"{n}（{unit}）" if unit else n for n in names], 12, 44) if len(names) > 1 or unit else []
    body += _grid_x(left, top, plot_w, height - 34, axis_max, step, fmt)
    for row, label in enumerate(labels):
        y = top + row * row_h + 5
        body.append(
            f'<text x="{left - 8:.1f}" y="{y + row_h / 2 + 2:.1f}" text-anchor="end" fill="#111827">'
            f"<title>{escape(label)}</title>{escape(clip(label, 13, label_w - 12))}</text>"
        )
        for i, name in enumerate(names):
            value = series[name][row]
            by = y + i * 16
            if value is None:
                body.append(f'<text x="{left + 4:.1f}" y="{by + 12:.1f}" fill="#9ca3af">无数据</text>')
                continue
            w = max(plot_w * value / axis_max, 1.0)
            color = COLORS[i % len(COLORS)]
            body.append(
                f'<rect class="bar" x="{left:.1f}" y="{by:.1f}" width="{w:.1f}" height="14" fill="{color}">'
                f"<title>{escape(f'{label} {name}：{fmt(value)}{unit}')}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{by + 11.5:.1f}" font-size="11" fill="#374151">'
                f"{escape(fmt(value))}</text>"
            )
    if not labels:
        body.append(f'<text x="{left:.1f}" y="{top + 20:.1f}" fill="#9ca3af">本期没有数据</text>')
    return _svg(width, height, title, body)


def _grid_x(left: float, top: float, w: float, bottom: float, axis_max: float, step: float, fmt: Format) -> list[str]:
    out = []
    ticks = round(axis_max / step)
    for k in range(ticks + 1):
        x = left + w * k / ticks
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#e5e7eb"/>')
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 16:.1f}" text-anchor="middle" font-size="11" fill="#6b7280">'
            f"{escape(fmt(step * k))}</text>"
        )
    return out


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    unit: str = "",
    fmt: Format = _plain,
    width: int = 760,
    height: int = 300,
) -> str:
    """Lines over categories (hours, days, weeks, months); a None leaves a gap in its line."""
    names = list(series)
    top, left, right, bottom = 58.0, 56.0, 20.0, height - 40.0
    plot_w, plot_h = width - left - right, bottom - top
    values = [v for vs in series.values() for v in vs if v is not None]
    axis_max, step = nice_max(max(values, default=0), all(isinstance(v, int) for v in values))
    body = _legend([f"{n}（{unit}）" if unit else n for n in names], 12, 44)
    ticks = round(axis_max / step)
    for k in range(ticks + 1):
        y = bottom - plot_h * k / ticks
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        body.append(
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">'
            f"{escape(fmt(step * k))}</text>"
        )
    n = len(labels)
    xs = [left + (plot_w * (i + 0.5) / n) for i in range(n)]
    every = max(1, math.ceil(n / max(1, int(plot_w // 56))))  # thin the labels so they never overlap
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{xs[i]:.1f}" y="{bottom + 18:.1f}" text-anchor="middle" font-size="11" fill="#374151">'
                f"{escape(label)}</text>"
            )
    for s, name in enumerate(names):
        color = COLORS[s % len(COLORS)]
        points = [(xs[i], bottom - plot_h * v / axis_max, v) for i, v in enumerate(series[name]) if v is not None]
        for segment in _runs(series[name], xs, bottom, plot_h, axis_max):
            body.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" points="{segment}"/>')
        for x, y, v in points:
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(f'{name}：{fmt(v)}{unit}')}</title></circle>"
            )
    if not values:
        body.append(f'<text x="{left + 8:.1f}" y="{top + 20:.1f}" fill="#9ca3af">本期没有数据</text>')
    return _svg(width, height, title, body)


def _runs(values: Sequence[Number], xs: list[float], bottom: float, plot_h: float, axis_max: float) -> list[str]:
    """Polyline point lists for each unbroken run of values."""
    runs: list[list[str]] = [[]]
    for x, v in zip(xs, values, strict=True):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{x:.1f},{bottom - plot_h * v / axis_max:.1f}")
    return [" ".join(r) for r in runs if r]
