"""Chart data, built in code as plain plotly figure dicts (plotly.js draws them in the browser)."""
from __future__ import annotations

import html
import json
import math
from collections import Counter

from ..model import KnowledgeBase


def notes_per_year(kb: KnowledgeBase) -> dict:
    """A stacked bar chart: notes per publication year, one trace per (primary) category."""
    counts: Counter[tuple[str, int]] = Counter()
    for note in kb.notes.values():
        reference = kb.reference(note.key)
        if reference and reference.year and note.categories:
            counts[(note.categories[0], reference.year)] += 1
    years = sorted({year for _, year in counts})
    totals = Counter(year for _, year in counts.elements())  # the height of each stacked bar
    traces = []
    for category in kb.taxonomy.categories:
        ys = [counts[(category.slug, year)] for year in years]
        if any(ys):
            # plotly reads a subset of HTML in labels: a category title is text, so escape it
            title = html.escape(category.title, quote=False)
            traces.append({"type": "bar", "name": title, "x": years, "y": ys,
                           "hovertemplate": "%{y} note(s) in %{x}<extra>" + title + "</extra>"})
    layout = {
        "barmode": "stack",
        "xaxis": {"title": {"text": "Publication year"}, "type": "category"},
        "yaxis": {"title": {"text": "Notes"}, "rangemode": "tozero", "tick0": 0,
                  "dtick": tick_step(max(totals.values(), default=0))},
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"l": 50, "r": 10, "t": 10, "b": 10},
        "height": 380,
    }
    return {"data": traces, "layout": layout}


MAX_TICKS = 8  # labels on the count axis; 380 px of chart keeps them well apart


def tick_step(highest: int) -> int:
    """A whole-number step of 1, 2 or 5 times a power of ten that puts at most ``MAX_TICKS`` labels
    between 0 and ``highest`` (the tallest bar): 1 for 7 notes a year, 10 for 54, 500 for 3,000."""
    step = 1
    while highest / step > MAX_TICKS:
        magnitude = 10 ** math.floor(math.log10(step))
        step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude > step)
    return step


def chart_json(figure: dict) -> str:
    """Figure JSON for a chart's ``data-pn-figure`` attribute (escape it as any attribute value).

    An attribute, not ``<script type="application/json">``: the theme's instant navigation
    re-creates every script in the new page without its ``type``, and runs the JSON as JavaScript."""
    return json.dumps(figure, ensure_ascii=False, separators=(",", ":"))
