"""The built site as a reader gets it: ``site/`` served on localhost, read by headless Chromium.

These tests read the real site that ``papernotes build`` wrote (``make test`` builds it first); they
fail with a clear message when it is missing rather than building it themselves, because a build
without the equation-check results would draw no badges and no charts.

The browser is Debian's Chromium driven by the ``playwright`` package (``playwright install`` is
never needed). Outside CI the browser tests skip when Chromium is absent; with ``CI=true`` they fail.
Every request a page makes is recorded: one to any host other than the local server fails the test
that made it (and is never sent), and so does any console error.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from .chromium import CHROMIUM, launch, serving

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "site"
NOTES = REPO / "notes"
ARTIFACTS = REPO / "site_tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 900}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the browser tests must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run; .ci/run installs Chromium)", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# The built site and what the notes say (targets are picked from the content, never counted)


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail(f"{SITE} has no built site: run `papernotes build` first (`make test` does)", pytrace=False)
    return SITE.resolve()


@dataclass(frozen=True)
class NoteFacts:
    """What a test needs to know about a note, read from its Markdown source."""
    key: str
    lang: str
    cites: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"notes/{self.key}/"


CITE = re.compile(r"\[(@[^\]]+)\]")


def read_note(path: Path) -> NoteFacts:
    text = path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---", 2)[1]) if text.startswith("---") else {}
    keys = [k.strip().lstrip("@") for group in CITE.findall(text) for k in group.split(";")]
    return NoteFacts(path.stem, (front or {}).get("lang", "en"), tuple(dict.fromkeys(keys)))


@pytest.fixture(scope="session")
def notes(site) -> dict[str, NoteFacts]:
    facts = {p.stem: read_note(p) for p in sorted(NOTES.glob("*.md"))}
    missing = [k for k in facts if not (site / "notes" / k / "index.html").exists()]
    if missing:
        pytest.fail(f"site/ is older than notes/ (no page for {missing[:3]}): run `papernotes build`", pytrace=False)
    return facts


def note(notes: dict[str, NoteFacts], key: str) -> NoteFacts:
    """A note the tests are written around; a clear failure if it was removed."""
    if key not in notes:
        pytest.fail(f"notes/{key}.md is gone: pick another target for this test", pytrace=False)
    return notes[key]


# ---------------------------------------------------------------------------------------------
# A local server and the browser


@pytest.fixture(scope="session")
def base_url(site) -> str:
    """``site/`` served on 127.0.0.1 on a free port for the whole session."""
    with serving(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@dataclass
class Visit:
    """What the pages of one test did: every request, and every console or page error."""
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        local = urlsplit(self.base_url).netloc
        return [url for url in self.requests if urlsplit(url).scheme not in ("data", "blob", "about")
                and urlsplit(url).netloc != local]


def open_context(browser, visit: Visit, **options):
    """A browser profile whose pages' requests and errors are recorded in ``visit``; a request to
    any other host is aborted (never sent) and left for the test to fail on."""
    context = browser.new_context(base_url=visit.base_url, **options)
    context.on("request", lambda request: visit.requests.append(request.url))
    context.route(lambda url: not url.startswith(visit.base_url), lambda route: route.abort())
    context.on("console", lambda m: visit.errors.append(f"console {m.type}: {m.text} ({m.location.get('url')})")
               if m.type == "error" else None)
    context.on("weberror", lambda e: visit.errors.append(f"uncaught: {e.error}"))
    return context


@pytest.fixture
def visit(base_url) -> Visit:
    return Visit(base_url)


@pytest.fixture
def context(browser, visit):
    """A fresh browser profile per test (cold cache, no stored colour scheme), desktop size.
    After the test: no request left localhost and no page logged an error."""
    context = open_context(browser, visit, viewport=DESKTOP)
    yield context
    context.close()
    assert visit.outside() == [], "pages requested other hosts"
    assert visit.errors == [], "pages logged errors"


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def goto(page, path: str) -> None:
    """Open ``path`` and wait until the page is idle (fonts, plotly, search worker)."""
    page.goto(path)
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str, **options) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path


def reader_click(locator) -> None:
    """Scroll ``locator`` into view, pause as a reader would, then click it. (The theme records the
    scroll offset 100 ms after scrolling stops; a click inside that window lands the page at the
    old offset instead of the link's anchor, which Playwright's scroll-and-click always hits.)"""
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(300)
    locator.click()
