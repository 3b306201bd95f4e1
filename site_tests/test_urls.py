"""Relative links between the site's pages: the fast ``relpath`` is ``posixpath.relpath`` for every
pair of paths inside the site."""
import posixpath

from hypothesis import given
from hypothesis import strategies as st

from generator.render import urls

segment = st.sampled_from(["notes", "categories", "a", "b", "index.md", "x.md", "references.bib", "."])
site_path = st.lists(segment, min_size=0, max_size=4).map(lambda parts: "/".join(parts) or ".")


@given(site_path, site_path)
def test_relpath_is_posixpaths_for_paths_inside_the_site(path, start):
    assert urls.relpath(path, start) == posixpath.relpath(path, start)


def test_links_between_pages():
    assert urls.md_link(urls.note_page("a"), urls.note_page("b"), "x") == "b.md#x"
    assert urls.md_link(urls.category_page("cv"), urls.note_page("b")) == "../notes/b.md"
    assert urls.md_link(urls.HOME, urls.CATEGORIES) == "categories/index.md"
    assert urls.href(urls.note_page("a"), urls.HOME) == "../../"
    assert urls.href(urls.note_page("a"), urls.note_page("b"), "eq") == "../b/#eq"
    assert urls.href(urls.HOME, urls.BIBTEX_FILE) == "references.bib"
    assert urls.href(urls.CATEGORIES, urls.CATEGORIES) == "./"
