"""Rebuilding only the pages an edit changed, from the previous build, with the same bytes as a clean build.

A page's HTML depends on its own Markdown and on a *frame* shared by every page: the generator and
renderers (their fingerprint), ``mkdocs.yml``, the site address, the navigation, the set of pages
(links and the sitemap) and the bibliography file the site serves. Every page's Markdown is known
on each build (from the memo where what it reads is unchanged: ``render.pages``); when the frame is the one the published build was made from, only
the pages whose Markdown differs go through mkdocs (its ``dirty`` build: a page whose HTML is
missing is rendered, the others are kept), their formulas are rendered, and only the search bundles
of their languages are rebuilt. Everything else is taken from the published build as hard links,
except the few files written over in place (the sitemap, the 404 page, the search manifest), which
are copied. Any other change is a clean build.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import site_seed
from .fingerprint import generator_fingerprint
from .memo import ParseMemo
from .project import Project
from .render import urls

RECORD = "pages.json"  # next to the built site, like inputs.json: what each page was built from
SEARCH = "pagefind"
# the files a dirty build writes over (mkdocs' static templates, the search manifest): copied, as
# everything else is linked (the re-rendered pages and re-indexed bundles are left out, written anew;
# mkdocs copies no static file, as each one in docs/ is older than its copy in the site)
REWRITTEN_IN_PLACE = frozenset({"404.html", "sitemap.xml", "sitemap.xml.gz", f"{SEARCH}/languages.json"})
UNCHANGED_MTIME = 1  # docs files older than any built file: mkdocs' dirty build keeps their output


@dataclass(frozen=True)
class PageSet:
    """What a site is built from, page by page: the frame's digest, each docs page's Markdown
    digest, and each page's search bundle (by URL: its language, or a part of it, ``search.bundles_of``)."""
    frame: str
    pages: Mapping[str, str]
    languages: Mapping[str, str]

    def to_json(self) -> dict:
        return {"frame": self.frame, "pages": dict(self.pages), "languages": dict(self.languages)}


@dataclass(frozen=True)
class Anchors:
    """Per docs page, what mkdocs' anchor validation needs: the ids the page has, and the anchors
    it links to on each page (``{target: {anchor: the link as written}}``). Kept with a build so
    that a dirty build, which renders only some pages, can still check links between a page it
    rendered and one it kept, in both directions, as a clean build does."""
    present: Mapping[str, tuple[str, ...]]
    links: Mapping[str, Mapping[str, Mapping[str, str]]]

    def updated(self, rendered: "Anchors") -> "Anchors":
        return Anchors({**self.present, **rendered.present}, {**self.links, **rendered.links})

    def broken_between(self, rendered: frozenset[str]) -> list[str]:
        """mkdocs' message for every link to a missing anchor from a rendered page to a kept one or
        back (mkdocs itself checks links among the pages it rendered)."""
        messages = []
        for source, targets in sorted(self.links.items()):
            for target, anchors in sorted(targets.items()):
                if (source in rendered) == (target in rendered) or target not in self.present:
                    continue
                messages += [f"Doc file '{source}' contains a link '{link}', but the doc '{target}' does not contain an "
                             f"anchor '#{anchor}'." for anchor, link in sorted(anchors.items()) if anchor not in self.present[target]]
        return messages


@dataclass(frozen=True)
class Plan:
    """A build from scratch (``previous`` is None), or from ``previous`` (a built site) re-rendering
    ``changed`` docs pages and re-indexing ``reindex`` languages, or, when not ``search``, leaving
    their search bundles as they were for the next build to bring up to date (``deferred``)."""
    current: PageSet
    previous: Path | None = None
    changed: frozenset[str] = frozenset()
    reindex: frozenset[str] = frozenset()
    search: bool = True
    anchors: Anchors | None = None  # the previous build's, from its record (read once: it is megabytes at 3,000 notes)

    @property
    def deferred(self) -> frozenset[str]:
        """The languages whose search bundles this build leaves stale."""
        return self.reindex if self.previous is not None and not self.search else frozenset()

    @property
    def reindexed(self) -> frozenset[str]:
        """The search bundles this build writes anew: none of the previous build's files are kept for them."""
        return self.reindex - self.deferred

    @property
    def kept_languages(self) -> frozenset[str]:
        every = frozenset(self.current.languages.values()) | {"en"}  # the pages that are not notes are English
        return every - self.reindex if self.previous else frozenset()

    def changed_html(self) -> list[str]:
        return sorted(html_of(page) for page in self.changed)


def html_of(docs_page: str) -> str:
    """Where mkdocs writes a docs page (``use_directory_urls``): ``notes/x.md`` -> ``notes/x/index.html``."""
    return urls.url_of(docs_page) + "index.html"


def page_set(project: Project, rendered: Mapping[str, str], nav: list, languages: Mapping[str, str],
             site_url: str | None, fingerprint: str | None = None, memo: ParseMemo | None = None) -> PageSet:
    """The pages' digests and the frame they are rendered in. ``memo``: where the digest of a page
    found in the memo (the same text object as in the last build) is remembered."""
    frame = hashlib.sha256()
    for part in (fingerprint or generator_fingerprint(), site_url or "", json.dumps(nav, sort_keys=True), "\n".join(sorted(rendered))):
        frame.update(part.encode() + b"\0")
    for file in (project.mkdocs_config, project.bibliography):
        frame.update(hashlib.sha256(file.read_bytes() if file.exists() else b"").digest())
    pages = (memo.text_digests(rendered) if memo is not None else
             {path: hashlib.sha256(text.encode("utf-8")).hexdigest() for path, text in rendered.items()})
    return PageSet(frame.hexdigest(), pages, dict(languages))


def plan(project: Project, current: PageSet, search: bool = True) -> Plan:
    """From the published build when its frame is ``current``'s, else from scratch (which always
    indexes for search). ``search=False``: the search bundles are left as they were (``serve`` shows
    an edit first, then brings them up to date with a second build)."""
    previous = _published(project)
    if previous is None or previous[1].frame != current.frame or set(previous[1].pages) != set(current.pages):
        return Plan(current)
    site, before, record = previous
    try:
        anchors = Anchors({k: tuple(v) for k, v in record["anchors"].items()}, record["links"])
    except (KeyError, TypeError, AttributeError):  # a record from before anchors were kept
        return Plan(current)
    changed = frozenset(p for p, h in current.pages.items() if before.pages.get(p) != h)
    urls_changed = {urls.url_of(p) for p in changed}
    # a page whose bundle changed (its language did, or its language was cut into another number of
    # parts) leaves one bundle and joins another: both are re-indexed, as those of a changed page
    urls_changed |= {url for url in set(before.languages) | set(current.languages)
                     if before.languages.get(url) != current.languages.get(url)}
    reindex = {lang for mapping in (before.languages, current.languages) for url, lang in mapping.items() if url in urls_changed}
    reindex |= {"en" for url in urls_changed if url not in current.languages}  # pages not in the map are English
    reindex |= set(current.languages.values()) ^ set(before.languages.values())
    try:
        reindex |= set(record.get("stale", []))  # left stale by the build before
    except TypeError:
        pass
    return Plan(current, site, changed, frozenset(reindex), search, anchors)


def _published(project: Project) -> tuple[Path, PageSet, dict] | None:
    """The published build's site, what it was built from, and its whole record."""
    if not project.site.is_symlink() or not project.site.resolve().is_dir():
        return None
    site = project.site.resolve()
    try:
        record = json.loads((site.parent / RECORD).read_text(encoding="utf-8"))
        return site, PageSet(record["frame"], record["pages"], record["languages"]), record
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record, or a corrupt one: a clean build


def take_docs(previous: Path, docs: Path) -> bool:
    """The docs folder of the build whose site is ``previous``, moved to ``docs`` (one rename, not a
    page written per page); False when it has none (a build that failed took it, an older tool's
    build) or another build took it first. A build keeps its docs folder with every page aged
    (``age``): in the build that takes it, mkdocs renders only the pages written anew."""
    try:
        docs.parent.mkdir(parents=True, exist_ok=True)
        os.rename(previous.parent / "docs", docs)
        return True
    except OSError:
        return False


def age(docs: Path, pages: Iterable[str] | None = None, but: frozenset[str] = frozenset()) -> None:
    """``pages`` of ``docs`` (every file when None, less ``but``) marked as older than any built file:
    mkdocs' dirty build keeps their output."""
    files = (f.relative_to(docs).as_posix() for f in docs.rglob("*") if f.is_file()) if pages is None else pages
    for page in files:
        if page not in but:
            os.utime(docs / page, (UNCHANGED_MTIME, UNCHANGED_MTIME))


def seed_site(plan: Plan, site: Path) -> None:
    """``site`` made from the previous build, less the changed pages and the bundles re-indexed."""
    assert plan.previous is not None
    rewritten = set(plan.changed_html())
    reindexed = plan.reindexed

    def left_out(relative: str) -> bool:
        parts = relative.split("/")
        return relative in rewritten or (parts[0] == SEARCH and len(parts) > 2 and parts[1] in reindexed)

    site_seed.link_tree(str(plan.previous), str(site), REWRITTEN_IN_PLACE, left_out)


def trim_seed(plan: Plan, site: Path) -> None:
    """``site``, a whole copy of the previous build (``site_seed``), less what ``seed_site`` leaves out:
    the changed pages and the search bundles this build re-indexes."""
    for page in plan.changed_html():
        try:
            os.unlink(site / page)
        except FileNotFoundError:
            pass
    for bundle in plan.reindexed:
        shutil.rmtree(site / SEARCH / bundle, ignore_errors=True)


def stale_plan(site: Path) -> Plan | None:
    """For a published build that left search bundles stale: the plan that re-indexes just those."""
    try:
        record = json.loads((site.parent / RECORD).read_text(encoding="utf-8"))
        current = PageSet(record["frame"], record["pages"], record["languages"])
        stale = frozenset(record.get("stale", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Plan(current, site, frozenset(), stale) if stale else None


def finished(build_folder: Path, previous: Path) -> None:
    """The previous build's record, with no stale bundle, for the build that re-indexed them."""
    record = json.loads((previous.parent / RECORD).read_text(encoding="utf-8"))
    record["stale"] = []
    (build_folder / RECORD).write_text(json.dumps(record, ensure_ascii=False, sort_keys=True), encoding="utf-8")


def record(build_folder: Path, current: PageSet, anchors: Anchors, stale: frozenset[str] = frozenset()) -> None:
    payload = {**current.to_json(), "anchors": {k: list(v) for k, v in anchors.present.items()}, "links": anchors.links,
               "stale": sorted(stale)}
    (build_folder / RECORD).write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8")
