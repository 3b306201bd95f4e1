"""Where each page lives, and relative links between pages (mkdocs ``use_directory_urls``)."""
from __future__ import annotations

import functools
import posixpath
from urllib.parse import quote

# characters a URL fragment may hold as they are (RFC 3986), less the parentheses Markdown links end at
FRAGMENT_SAFE = "!$&'*+,;=:@/?-._~"


def note_page(key: str) -> str:
    return f"notes/{key}.md"


def category_page(slug: str) -> str:
    return f"categories/{slug}.md"


HOME, CATEGORIES, TIMELINE, BIBLIOGRAPHY = "index.md", "categories/index.md", "timeline.md", "bibliography.md"
VERIFICATION = "verification.md"
BIBTEX_FILE = "references.bib"


def url_of(docs_path: str) -> str:
    """The directory URL a docs page is served at: ``notes/x.md`` -> ``notes/x/``; ``index.md`` -> ``""``."""
    if not docs_path.endswith(".md"):
        return docs_path
    stem = docs_path[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def href(from_docs: str, to_docs: str, anchor: str = "") -> str:
    """A relative URL from one page to another (or to a static file), for raw HTML."""
    here, target = url_of(from_docs), url_of(to_docs)
    here_dir = here if here == "" or here.endswith("/") else posixpath.dirname(here)
    relative = relpath(target or ".", here_dir.rstrip("/") or ".")
    if (target == "" or target.endswith("/")) and not relative.endswith("/"):
        relative += "/"
    return relative + (f"#{anchor}" if anchor else "")


def md_link(from_docs: str, to_docs: str, anchor: str = "") -> str:
    """A relative link between Markdown sources, which mkdocs checks and rewrites."""
    relative = relpath(to_docs, posixpath.dirname(from_docs) or ".")
    return relative + (f"#{anchor}" if anchor else "")


@functools.lru_cache(maxsize=1 << 16)
def relpath(path: str, start: str) -> str:
    """``posixpath.relpath`` for two paths inside the site (relative, no ``..``), without its
    ``abspath`` of both, which asks the working directory: a build makes tens of thousands of links,
    the same ones on every build (``serve``), hence the cache of a pure function of two strings."""
    to = [part for part in path.split("/") if part not in ("", ".")]
    frm = [part for part in start.split("/") if part not in ("", ".")]
    common = 0
    while common < min(len(to), len(frm)) and to[common] == frm[common]:
        common += 1
    return "/".join([".."] * (len(frm) - common) + to[common:]) or "."


def anchor(key: str) -> str:
    """A bibliography entry's key as a URL fragment: percent-encoded where a fragment needs it, so
    any key BibTeX allows (a DOI, ``a*b``, ``x:y/z``) links; the entry's ``id`` is the key itself."""
    return quote(key, safe=FRAGMENT_SAFE)
