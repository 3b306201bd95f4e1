"""The mkdocs adapter: generated pages -> a built site, published atomically.

``build`` reads like its outline: load -> render -> write docs -> mkdocs -> math -> search index -> publish.
Everything happens in a fresh folder under ``build/``; ``site`` is a symbolic link switched to the
new build only when every stage succeeded, so a failed or killed build leaves the last good site.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from . import incremental, page_shards, site_seed, theme_mirror
from .build_inputs import PENDING, RECORD, inputs_digest, published_warnings, record_inputs
from .content_cache import ContentCache
from .diagnostics import Diagnostic
from .file_digests import FileDigests
from .fingerprint import generator_fingerprint
from .highlight.cache import HighlightCache
from .highlight.lexer import pymdownx_languages
from .formulas import Katex, cached_katex, render_math_in_site
from .load import Loaded, load
from .memo import ParseMemo, cached_memo
from .checks.coverage import equations, unknown_equations
from .checks.discover import content_hash, discover
from .checks.verification import verification
from .project import Project
from .render import pages, urls
from .search import BUNDLE_PAGES, bundles_of, index_search

ASSETS = Path(__file__).parent / "assets"
# Our versions of the theme's header and search dialog (the box answered by Pagefind, not lunr)
THEME_OVERRIDES = Path(__file__).parent / "theme"
KEEP_BUILDS = 2


def build(project: Project, katex: Katex | None = None, site_url: str | None = None, search: bool = True,
          jobs: int | None = None, memo: ParseMemo | None = None, search_bundle_pages: int = BUNDLE_PAGES,
          files_seen: FileDigests | None = None) -> list[Diagnostic]:
    """Build the site into ``project.site``; returns every problem (an error means nothing changed).
    ``site_url`` overrides mkdocs.yml's (the address the site is served at). ``jobs``: processes a
    clean build renders pages with (default: the usable CPUs; ``page_shards``). ``search=False``: an
    incremental build leaves the search bundles of the changed pages' languages as they were and is
    not final (the next build, which ``serve`` runs right after, re-indexes them). ``katex`` and
    ``memo`` (the inputs parsed before) are kept by a long-lived caller across builds; by default,
    both come from ``build/cache``. ``search_bundle_pages``: the most note pages of one language a
    search bundle holds (``search.bundles_of``). ``files_seen``: the input files' digests, kept
    across builds by a long-lived caller (``serve``), which reads only the files that changed."""
    fingerprint = generator_fingerprint()  # hashes the generator's files: once per build
    # each input looked at once (an input whose parse the memo holds is read once, for this digest)
    files_seen = (files_seen or FileDigests()).one_build()
    digest = inputs_digest(project, site_url, fingerprint, files_seen)
    unchanged = published_warnings(project, digest)
    if unchanged is not None:  # the published site was built from exactly these inputs
        return unchanged
    katex = katex or cached_katex(project.cache)
    memo = memo or cached_memo(project.cache)
    staging = new_build_folder(project)
    # the published site linked into this build's folder while its Markdown is made (most builds start from it)
    seeding = seed_from_published(project, staging / "site")
    try:
        loaded, problems, rendered = markdown_pages(project, katex, memo, files_seen)
    except BaseException:  # interrupted (Ctrl+C in serve): no half-made build folder is left for ``prune`` to count
        if seeding:
            seeding.discard(staging)
        raise
    if rendered is None:
        if seeding:
            seeding.discard(staging)
        return problems
    nav = pages.navigation(loaded.kb)
    bundles = bundles_of(page_languages(loaded.kb), search_bundle_pages)
    plan = incremental.plan(project, incremental.page_set(project, rendered, nav, bundles, site_url, fingerprint, memo), search)
    if seeding and (plan.previous != seeding.source or not seeding.wait()):
        seeding.discard()
        seeding = None
    if plan.previous is not None:
        if seeding:
            incremental.trim_seed(plan, staging / "site")
        else:
            incremental.seed_site(plan, staging / "site")
    # the previous build's docs folder, when this build can take it, holds every page but the changed ones
    kept_docs = plan.previous is not None and incremental.take_docs(plan.previous, staging / "docs")
    written = plan.changed if kept_docs else rendered
    problems = write_docs(project, {page: rendered[page] for page in written}, staging / "docs", every_file=not kept_docs)
    if plan.previous is not None and not kept_docs:  # written anew: mkdocs must keep the HTML of all but the changed pages
        incremental.age(staging / "docs", but=plan.changed)
    anchors = incremental.Anchors({}, {})
    if not problems:
        problems, anchors = render_html(project, staging, plan, rendered, nav, site_url, katex, jobs, fingerprint)
    if not plan.deferred:
        problems = problems or index_search(staging / "site", bundles, keep=plan.kept_languages)
    if problems:
        shutil.rmtree(staging, ignore_errors=True)
        return loaded.problems + problems
    # a build with stale search bundles is never taken for a finished one (finish_search makes it one)
    record_inputs(staging, digest, loaded.problems, PENDING if plan.deferred else RECORD)
    incremental.record(staging, plan.current, anchors, plan.deferred)
    # the docs folder the next build takes: every file as old as its output
    incremental.age(staging / "docs", plan.changed if plan.previous is not None else None)
    publish(staging / "site", project.site)
    if not plan.deferred:  # else after the page is shown: ``finish_search`` prunes
        prune(project.work / "sites", keep=staging)
    return loaded.problems


def markdown_pages(project: Project, katex: Katex, memo: ParseMemo,
                   files: FileDigests | None = None) -> tuple[Loaded, list[Diagnostic], dict[str, str] | None]:
    """The first stages of a build: read, validate, the checks' results, every page as Markdown (None
    when a problem stops the build). ``serve`` also runs them once the site is up, so that the parsed
    inputs and rendered pages of its first edit are in memory, as those of the later ones are."""
    loaded = load(project, katex, memo=memo, files=files)
    if loaded.kb is None:
        return loaded, loaded.problems, None
    specs, check_problems = discover(project.root, set(loaded.kb.notes), memo, files)
    check_problems += unknown_equations(specs, {e.id for e in equations(loaded.kb)})
    if check_problems:
        return loaded, loaded.problems + check_problems, None
    checked = verification(project, loaded.kb, specs, memo, files)
    return loaded, loaded.problems, pages.render_pages(loaded.kb, checked, project.cache / "jinja", memo)


def render_html(project: Project, staging: Path, plan: incremental.Plan, rendered: dict[str, str], nav: list,
                site_url: str | None, katex: Katex, jobs: int | None,
                fingerprint: str | None = None) -> tuple[list[Diagnostic], incremental.Anchors]:
    """``staging/docs`` -> ``staging/site`` by mkdocs, formulas rendered: from the previous build when
    ``plan`` has one (only the changed pages), else every page, by several processes when there are
    many (``page_shards``). Also the anchors of every page, for the record of the build."""
    docs, site = staging / "docs", staging / "site"
    workers = 1 if plan.previous is not None else page_shards.workers_for(len(rendered), jobs)
    if workers > 1:
        def render_shard(docs: Path, site: Path, shard: list[str]) -> tuple[list[Diagnostic], incremental.Anchors]:
            check = _AnchorCheck(incremental.Anchors({}, {}))  # a dirty build over an empty record: this shard's pages
            problems = run_mkdocs(project, docs, site, nav, site_url, check, fingerprint)
            problems = problems or render_math_in_site(site, katex, [site / incremental.html_of(page) for page in shard])
            return problems, check.result()

        shards = page_shards.split({path: len(text) for path, text in rendered.items()},
                                   page_shards.shard_count(len(rendered), workers))
        return page_shards.render(docs, site, shards, render_shard, at_once=workers)
    anchors = _AnchorCheck(plan.anchors)
    problems = run_mkdocs(project, docs, site, nav, site_url, anchors, fingerprint)
    built = None if plan.previous is None else [site / page for page in plan.changed_html()]
    problems = problems or render_math_in_site(site, katex, built)
    return problems, anchors.result()


def seed_from_published(project: Project, site: Path) -> site_seed.Seeding | None:
    """The published site being linked into ``site`` (by a child process), if there is one."""
    if not project.site.is_symlink() or not project.site.resolve().is_dir():
        return None
    return site_seed.Seeding(project.site.resolve(), site, incremental.REWRITTEN_IN_PLACE)


def new_build_folder(project: Project) -> Path:
    """A fresh folder for a build (named by time, so that ``prune`` keeps the latest)."""
    return project.work / "sites" / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"


def finish_search(project: Project, publishing: AbstractContextManager | None = None, background: bool = False) -> list[Diagnostic]:
    """After ``build(search=False)``: the published build with its stale search bundles re-indexed,
    published as a new build (the site is then the one ``build`` writes). Much less than a build:
    the pages are linked from the published build, and only Pagefind runs.

    ``publishing``: a lock that builds hold while they run (``serve``'s). Indexing runs outside it,
    so an edit never waits for Pagefind; the result is published under it, and only if the site is
    still the build it indexed (a newer build left its own bundles stale: this result is dropped, and
    that build's own ``finish_search`` re-indexes them). ``background``: Pagefind runs at a low CPU
    priority, leaving the cores to the next edit's build."""
    with publishing or nullcontext():  # the published build is not pruned while its pages are linked
        if not project.site.is_symlink():
            return []
        published = project.site.resolve()
        plan = incremental.stale_plan(published)
        if plan is None or not (published.parent / PENDING).exists():
            return []
        built = new_build_folder(project)
        shutil.rmtree(project.work / "indexing", ignore_errors=True)  # what an interrupted one left
        staging = project.work / "indexing" / built.name  # out of the builds that ``prune`` deletes
        incremental.seed_site(plan, staging / "site")
    problems = index_search(staging / "site", plan.current.languages, keep=plan.kept_languages, background=background)
    with publishing or nullcontext():
        if problems or project.site.resolve() != published:
            shutil.rmtree(staging, ignore_errors=True)
            return problems
        shutil.copy2(published.parent / PENDING, staging / RECORD)
        incremental.finished(staging, published)
        incremental.take_docs(published, staging / "docs")  # for the next build, which starts from this one
        staging.rename(built)
        publish(built / "site", project.site)
        prune(project.work / "sites", keep=built)
    return []


def write_docs(project: Project, rendered: dict[str, str], docs: Path, every_file: bool = True) -> list[Diagnostic]:
    """The generated Markdown pages plus, with ``every_file``, the files the site serves itself (no
    CDN, ever): ours, KaTeX's stylesheet and woff2 fonts (``assets/katex/``, the KaTeX that pykatex
    renders with), plotly, the bibliography. Without, ``docs`` already holds them (a folder taken from
    a build of the same frame: the same generator, renderers and bibliography) and only ``rendered`` is written."""
    for folder in {(docs / path).parent for path in rendered}:  # each once (a mkdir per page was a tenth of an edit's build)
        folder.mkdir(parents=True, exist_ok=True)
    for path, text in rendered.items():
        (docs / path).write_text(text, encoding="utf-8")
    if not every_file:
        return []
    shutil.copytree(ASSETS, docs / "assets", dirs_exist_ok=True)
    shutil.copy2(plotly_js(), docs / "assets" / "javascripts" / "plotly.min.js")
    shutil.copy2(project.bibliography, docs / urls.BIBTEX_FILE)
    return []


def plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


# mkdocs' warning that a dirty build may leave other pages' navigation stale: ours keeps the
# navigation and the set of pages (incremental.py's frame), so nothing is stale
DIRTY_WARNING = "A 'dirty' build is being performed"


class _Collect(logging.Handler):
    """Keeps mkdocs' warnings and errors as diagnostics instead of letting them print."""

    def __init__(self, dirty: bool = False) -> None:
        super().__init__(logging.WARNING)
        self.problems: list[Diagnostic] = []
        self._dirty = dirty

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not (self._dirty and message.startswith(DIRTY_WARNING)):
            self.problems.append(Diagnostic("mkdocs", 0, message))


def run_mkdocs(project: Project, docs: Path, site: Path, nav: list, site_url: str | None = None,
               anchors: "_AnchorCheck | None" = None, fingerprint: str | None = None) -> list[Diagnostic]:
    """``mkdocs build --strict`` of ``docs`` into ``site``, as diagnostics (every warning is one).
    When ``anchors`` holds a previous build's anchors, the build is dirty: only the pages whose HTML
    is missing from ``site`` (mkdocs' ``--dirty``; not ``strict``, which would count mkdocs' warning
    about dirty builds: the warnings are ours to count)."""
    anchors = anchors or _AnchorCheck(None)
    dirty = anchors.previous is not None
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    highlighter = HighlightCache(ContentCache(project.cache / "content.sqlite"),
                                 (fingerprint or generator_fingerprint()) + content_hash(project.mkdocs_config.read_bytes()))
    collect = _Collect(dirty)
    logger = logging.getLogger("mkdocs")
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [collect], False
    try:
        overrides = {"site_url": site_url} if site_url else {}
        config = load_config(str(project.mkdocs_config), docs_dir=str(docs), site_dir=str(site), nav=nav, strict=not dirty, **overrides)
        # snippets are included from the project itself (never copied), and only from inside it
        config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [str(project.root)]
        fences = config.mdx_configs.setdefault("pymdownx.superfences", {})
        fences["custom_fences"] = list(fences.get("custom_fences", [])) + highlighter.fences()
        highlight = config.mdx_configs.setdefault("pymdownx.highlight", {})
        # ours first: an entry of mkdocs.yml for the same name comes later, and pymdownx keeps the last
        highlight["extend_pygments_lang"] = pymdownx_languages() + list(highlight.get("extend_pygments_lang", []))
        config.theme.dirs.insert(0, str(THEME_OVERRIDES))  # what mkdocs' custom_dir does, from the package
        config.theme.dirs[:] = [_listed_quickly(Path(d), project) for d in config.theme.dirs]
        config.plugins["papernotes-theme-bytecode"] = _ThemeBytecode(project.cache / "jinja")
        config.plugins["papernotes-anchors"] = anchors.plugin()
        mkdocs_build(config, dirty=dirty)
        highlighter.save()
    except MkDocsException as exc:
        if not collect.problems:
            collect.problems.append(Diagnostic("mkdocs", 0, str(exc)))
    finally:
        logger.handlers, logger.propagate = saved
    return collect.problems


def _listed_quickly(folder: Path, project: Project) -> str:
    """Material's templates as ``theme_mirror`` mirrors them; any other theme folder as it is."""
    from importlib import metadata

    import material

    templates = Path(material.__file__).parent / "templates"
    if folder.resolve() != templates.resolve():
        return str(folder)
    try:
        return str(theme_mirror.mirrored(templates, project.cache, metadata.version("mkdocs-material")))
    except OSError:  # no symbolic links here (some Windows set-ups): mkdocs lists the icons, as it always did
        return str(folder)


def _theme_bytecode_plugin():
    import jinja2
    from mkdocs.plugins import BasePlugin

    class ThemeBytecode(BasePlugin):
        """The theme's templates compiled once, kept in ``build/cache/jinja`` (Jinja checks each
        template's source checksum): compiling Material's templates was a fixed part of every build."""

        def __init__(self, folder: Path) -> None:
            super().__init__()
            self._folder = folder

        def on_env(self, env, config, files):
            self._folder.mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(self._folder))
            return env

    return ThemeBytecode


class _AnchorCheck:
    """What mkdocs found of the anchors of the pages it rendered, and, in a dirty build, the check
    of links between those pages and the pages it kept (from the previous build's record)."""

    def __init__(self, previous: incremental.Anchors | None) -> None:
        self.previous = previous
        self._present: dict[str, tuple[str, ...]] = {}
        self._links: dict[str, dict[str, dict[str, str]]] = {}

    def seen(self, page) -> None:
        self._present[page.file.src_uri] = tuple(sorted(page.present_anchor_ids or ()))
        self._links[page.file.src_uri] = {target.src_uri: dict(links) for target, links in (page.links_to_anchors or {}).items()}

    def result(self) -> incremental.Anchors:
        rendered = incremental.Anchors(self._present, self._links)
        return rendered if self.previous is None else self.previous.updated(rendered)

    def broken(self) -> list[str]:
        return [] if self.previous is None else self.result().broken_between(frozenset(self._present))

    def plugin(self):
        from mkdocs.plugins import BasePlugin

        check = self

        class AnchorCheck(BasePlugin):
            def on_page_content(self, html, page, config, files):
                check.seen(page)
                return html

            def on_post_build(self, config):
                for message in check.broken():
                    logging.getLogger("mkdocs").warning(message)

        return AnchorCheck()


def _ThemeBytecode(folder: Path):  # noqa: N802 - builds the plugin class only when mkdocs is imported
    return _theme_bytecode_plugin()(folder)


def page_languages(kb) -> dict[str, str]:
    """The language of every note's page, by its URL (``notes/key/``), for the search index."""
    return {urls.url_of(urls.note_page(key)): note.lang for key, note in kb.notes.items()}


def publish(built: Path, site: Path) -> None:
    """Point ``site`` at ``built`` in one atomic rename (a symlink replacing a symlink)."""
    link = site.with_name(f".{site.name}.{uuid.uuid4().hex[:8]}")
    os.symlink(os.path.relpath(built, site.parent), link)
    if site.exists() and not site.is_symlink():  # a real folder from an older tool: keep it aside
        site.rename(site.with_name(f"{site.name}.old-{int(time.time())}"))
    os.replace(link, site)


def prune(sites: Path, keep: Path) -> None:
    """Delete old builds, keeping ``keep`` and the previous one."""
    builds = sorted((p for p in sites.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in builds[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
