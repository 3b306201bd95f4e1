"""Chart data, built in code as plain plotly figure dicts (plotly.js draws them in the browser)."""
from __future__ import annotations

import html
import json
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
        "yaxis": {"title": {"text": "Notes"}, "rangemode": "tozero", "dtick": 1},
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"l": 50, "r": 10, "t": 10, "b": 10},
        "height": 380,
    }
    return {"data": traces, "layout": layout}


def chart_json(figure: dict) -> str:
    """Figure JSON for a chart's ``data-pn-figure`` attribute (escape it as any attribute value).

    An attribute, not ``<script type="application/json">``: the theme's instant navigation
    re-creates every script in the new page without its ``type``, and runs the JSON as JavaScript."""
    return json.dumps(figure, ensure_ascii=False, separators=(",", ":"))
