"""``papernotes serve``: build, serve ``site/`` on localhost, rebuild when an input changes.

Each rebuild is incremental (``site_build.build``: only the pages an edit changed are rendered),
and in two steps: the edited pages are published (the open page reloads), then, in the background,
their languages' search bundles are rebuilt and published (``finish_search``: the site is then what
``build`` writes).
When a rebuild fails, the last good site keeps being served, the problems are printed in the
terminal, and every page the browser loads (the open one reloads) carries an overlay listing them
as ``path:line: message``, as the dev servers of Vite and Hugo do; the next good build removes it.
"""
from __future__ import annotations

import gc
import html
import threading
import time
from typing import Callable

from .file_digests import FileDigests
from .diagnostics import Diagnostic
from .formulas import cached_katex
from .memo import cached_memo
from .project import Project
from .search import BUNDLE_PAGES
from .site_build import build, finish_search, markdown_pages

OVERLAY_ID = "papernotes-build-errors"
# how long the inputs must stay unchanged before a rebuild starts (an editor's save is a burst of
# writes within a few milliseconds; mkdocs waits 0.1 s)
BUILD_DELAY = 0.03


def overlay(problems: list[Diagnostic]) -> str:
    """The markup shown over a page while the last build failed: every error, as the terminal shows it."""
    errors = "\n".join(html.escape(str(p)) for p in problems if p.is_error)
    return (f'<div id="{OVERLAY_ID}" role="alert" style="position:fixed;inset:0;z-index:100000;overflow:auto;'
            'background:rgba(24,0,0,.92);color:#fff;padding:2rem;font:14px/1.5 ui-monospace,monospace">'
            '<p style="margin:0 0 1rem;font-weight:bold;color:#ff8a80">papernotes: the last build failed; '
            'this page is from the last good build. Fix the source and save: the page reloads.</p>'
            f'<pre style="margin:0;white-space:pre-wrap;color:#fff;background:none">{errors}</pre></div>')


def with_overlay(page: bytes, problems: list[Diagnostic]) -> bytes:
    """``page`` (an HTML response) with the overlay before ``</body>``."""
    end = page.rfind(b"</body>")
    end = len(page) if end < 0 else end
    return page[:end] + overlay(problems).encode("utf-8") + page[end:]


class BuildState:
    """The problems of the last build, which the server shows; swapped whole, never edited."""

    def __init__(self) -> None:
        self.problems: list[Diagnostic] = []

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


def serve(project: Project, host: str, port: int, report: Callable, search_bundle_pages: int = BUNDLE_PAGES) -> int:
    from mkdocs.livereload import LiveReloadServer
    from watchdog import events
    from watchdog.observers import Observer

    # what an edit is: a file written, created, deleted or renamed (an editor saving by rename)
    CHANGES = [events.FileCreatedEvent, events.FileDeletedEvent, events.FileModifiedEvent, events.FileMovedEvent,
               events.FileClosedEvent, events.DirCreatedEvent, events.DirDeletedEvent, events.DirMovedEvent]

    class Watcher(Observer):
        """The native observer, told of changes only: a build opening and reading the notes is an
        event too (inotify's open and close), and each would start one more rebuild."""

        def schedule(self, event_handler, path, *, recursive=False, event_filter=None, follow_symlink=False):
            return super().schedule(event_handler, path, recursive=recursive, event_filter=event_filter or CHANGES,
                                    follow_symlink=follow_symlink)

    class Server(LiveReloadServer):
        """mkdocs' live-reload server, whose HTML responses carry the overlay while a build fails, and
        which hears of an edit from the operating system (inotify, FSEvents, ReadDirectoryChangesW:
        watchdog's native observer) instead of polling the inputs: mkdocs' poller saw a save up to
        half a second late and stat'ed every note each time (3,000 notes, 10 times a second)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.observer = Watcher()  # set before anything is watched or started
            self.build_delay = BUILD_DELAY

        def serve_request(self, environ, start_response):
            if not state.failed:
                return super().serve_request(environ, start_response)
            answered = {}
            body = b"".join(super().serve_request(environ, lambda status, headers, *_: answered.update(status=status, headers=headers)))
            headers = answered["headers"]
            if dict(headers).get("Content-Type", "").startswith("text/html"):
                body = with_overlay(body, state.problems)
                headers = [(k, str(len(body)) if k == "Content-Length" else v) for k, v in headers]
            start_response(answered["status"], headers)
            return [body]

    katex = cached_katex(project.cache)  # keeps rendered formulas across rebuilds
    memo = cached_memo(project.cache)  # keeps the parsed notes, bibliography and snippets across rebuilds
    files_seen = FileDigests()  # what each input file held when last read, while it is unchanged
    address = f"http://{host}:{port}/"  # the sitemap lists pages under it, for instant navigation
    state = BuildState()
    if report(build(project, katex, address, memo=memo, files_seen=files_seen, search_bundle_pages=search_bundle_pages)):
        return 1

    building = threading.Lock()  # one build at a time; the search step publishes under it
    indexing = threading.Lock()

    def warm() -> None:
        with building:  # a build that found the site up to date read nothing: the first edit would read it all
            markdown_pages(project, katex, memo, files_seen)
            # What the server keeps from build to build (the parsed inputs, the rendered formulas and
            # pages: millions of objects at 3,000 notes) is left out of the garbage collector's
            # passes: each pass walked all of it, a third of an edit's build at 3,000 notes. Once,
            # after a full collection, so that no garbage is kept with it.
            gc.collect()
            gc.freeze()

    def rebuild() -> None:
        started = time.perf_counter()
        with building:
            # on error the last good site stays
            state.problems = build(project, katex, address, search=False, memo=memo, files_seen=files_seen,
                                   search_bundle_pages=search_bundle_pages)
        if report(state.problems, consequence="the last good site is still served") == 0:
            print(f"rebuilt in {time.perf_counter() - started:.2f} s", flush=True)
            threading.Thread(target=index, daemon=True).start()

    def index() -> None:
        # the search bundles the fast build left stale: one indexer at a time, and the next edit's
        # build does not wait for it
        with indexing:
            problems = finish_search(project, publishing=building, background=True)
        if report(problems, consequence="search still answers from the previous index"):
            state.problems = problems

    server = Server(builder=rebuild, host=host, port=port, root=str(project.site))
    for path in project.inputs():
        if path.exists():  # watchdog cannot watch what is not there (no snippets yet, no check results)
            server.watch(str(path))
    threading.Thread(target=warm, daemon=True).start()
    print(f"serving http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
