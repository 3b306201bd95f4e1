"""What the pages decide for a large knowledge base: the chart's axis step, shortened author lists,
when a category table gets its filter box."""
from __future__ import annotations


from generator.formulas import Katex
from generator.load import load
from generator.model import Reference
from generator.render import charts, views


def test_the_count_axis_steps_keep_at_most_eight_labels():
    assert [charts.tick_step(n) for n in (0, 7, 8, 9, 54, 74, 110, 740, 3000)] == [1, 1, 1, 2, 10, 10, 20, 100, 500]
    for highest in range(0, 5000, 7):
        step = charts.tick_step(highest)
        assert highest / step <= charts.MAX_TICKS and str(step).lstrip("125").strip("0") == ""


def reference(authors=(), editors=()) -> Reference:
    return Reference("k", "article", "T", tuple(authors), 2020, "V", editors=tuple(editors))


def test_author_lists_over_three_names_shorten_to_the_first_two():
    long = views.authors_of(reference(["Ann A", "Bo B", "Cy C", "Di D"]))
    assert (long.short, long.full, long.shortened) == ("Ann A, Bo B, … et al.", "Ann A, Bo B, Cy C, Di D", True)
    short = views.authors_of(reference(["Ann A", "Bo B", "Cy C"]))
    assert (short.short, short.shortened) == ("Ann A, Bo B, Cy C", False)
    edited = views.authors_of(reference(editors=["Ann A", "Bo B", "Cy C", "Di D", "others"]))
    assert (edited.short, edited.full) == ("Ann A, Bo B, … et al. (eds.)", "Ann A, Bo B, Cy C, Di D et al. (eds.)")


def test_the_home_chart_of_the_fixture_steps_by_one(project):
    kb = load(project, Katex()).kb
    assert charts.notes_per_year(kb)["layout"]["yaxis"]["dtick"] == 1


def test_a_category_table_gets_a_filter_box_past_fifteen_rows(project):
    kb = load(project, Katex()).kb
    view = views.category_view(kb, "recsys", "categories/recsys.md")
    assert not view.filterable
    longer = views.CategoryView(view.slug, view.title, view.description, view.rows * (views.FILTER_FROM + 1))
    assert longer.filterable


def test_a_notes_row_made_once_is_the_row_each_category_page_would_make(project):
    """``render_pages`` shares the rows between the categories a note is tagged with, and between
    the pages at the same depth; each table is the one its page makes alone."""
    kb = load(project, Katex()).kb
    made: dict = {}
    for category in kb.taxonomy.categories:
        for page in ("categories/index.md", f"categories/{category.slug}.md"):
            assert views.category_view(kb, category.slug, page, made) == views.category_view(kb, category.slug, page)
    assert {href for _, href in made} == {"../notes/alpha2020first/", "../../notes/alpha2020first/", "../notes/beta2021second/",
                                          "../../notes/beta2021second/", "../notes/script2022title/", "../../notes/script2022title/"}
