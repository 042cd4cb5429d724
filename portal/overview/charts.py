"""Server-rendered SVG bar charts (no script, no external assets). Every chart is paired with
its data table on the page; the SVG is an image with a title and a short description."""
from __future__ import annotations

from markupsafe import Markup, escape

from portal.overview.service import Table

# Colour-blind-safe palette (Okabe-Ito), dark enough for 3:1 against white.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
WIDTH, BAR_AREA, ROW = 640, 420, 22


def stacked_bars(table: Table) -> Markup:
    """One horizontal bar per row, stacked by the value columns, with a legend."""
    numeric = [j for j, v in enumerate(table.rows[0][1:], 1) if isinstance(v, int)] if table.rows else []
    series = [table.columns[j] for j in numeric]  # counts only: a date column is not a bar
    values = [[int(row[j]) for j in numeric] for row in table.rows]
    total_max = max([sum(v) for v in values] + [1])
    legend_rows = (len(series) + 2) // 3
    height = 30 + len(table.rows) * ROW + 20 + legend_rows * 20
    label_width = WIDTH - BAR_AREA - 60
    ident = escape(table.name)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'class="chart" aria-labelledby="{ident}-title {ident}-desc" focusable="false">',
             f'<title id="{ident}-title">{escape(table.caption)}</title>',
             f'<desc id="{ident}-desc">Bar chart; the same figures are in the table that follows.</desc>']
    for i, (row, counts) in enumerate(zip(table.rows, values, strict=True)):
        y = 20 + i * ROW
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#0b0c0c">'
                     f'{escape(str(row[0]))[:40]}</text>')
        x = float(label_width)
        for j, count in enumerate(counts):
            if count:
                w = BAR_AREA * count / total_max
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" '
                             f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(str(row[0]))}: '
                             f'{escape(series[j])} {count}</title></rect>')
                x += w
        total = sum(counts)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12" fill="#0b0c0c">{total}</text>')
    if len(series) > 1:
        base = 30 + len(table.rows) * ROW
        for j, name in enumerate(series):
            lx, ly = 10 + (j % 3) * 210, base + (j // 3) * 20
            parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
                         f'<text x="{lx + 18}" y="{ly + 11}" font-size="12" fill="#0b0c0c">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
