"""``papernotes serve`` as a writer uses it: the open page reloads with an edit; a validation error
shows over the page (``path:line: message``) while the last good page stays; the fix removes it."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO, Visit, open_context, DESKTOP

FIXTURE = REPO / "site_tests" / "fixtures" / "kb_valid"
NOTE = "alpha2020first"
OVERLAY = "#papernotes-build-errors"
# generous: a reload waits for a build on a shared 2-core machine; no test asserts a duration
WAIT_MS = 90_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """The small fixture knowledge base under ``papernotes serve``; yields (root, base URL)."""
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE, root)
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "generator.cli", "--root", str(root), "serve", "--port", str(port)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(url + f"notes/{NOTE}/", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("papernotes serve did not start:\n" + (tmp_path / "serve.log").read_text())
                time.sleep(0.2)
        yield root, url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait()
        log.close()


def replace(path: Path, old: str, new: str) -> None:
    """Saved as editors save: the new text written beside the file, then renamed over it (the
    watcher never sees a half-written note)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    saved = path.with_name(f".{path.name}.saving")
    saved.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.replace(saved, path)


def test_an_edit_reloads_the_page_and_an_error_shows_over_it_until_fixed(browser, served):
    root, url = served
    visit = Visit(url)
    context = open_context(browser, visit, viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}notes/{NOTE}/")
    note = root / "notes" / f"{NOTE}.md"

    replace(note, "## Idea", "## Idea\n\nA sentence written while the page was open.")
    page.get_by_text("A sentence written while the page was open.").wait_for()

    replace(note, "tags: [optimization, training]", "tags: [optimization, trainingg]")
    page.locator(OVERLAY).filter(has_text=f"notes/{NOTE}.md:2: unknown tag 'trainingg'").wait_for(state="visible")
    assert page.get_by_text("A sentence written while the page was open.").is_visible()  # the last good page

    replace(note, "tags: [optimization, trainingg]", "tags: [optimization, training]")
    page.locator(OVERLAY).wait_for(state="detached")  # the page reloads
    page.get_by_text("A sentence written while the page was open.").wait_for()
    page.wait_for_load_state("load")
    assert page.locator(OVERLAY).count() == 0
    context.close()
    assert visit.outside() == []
    assert visit.errors == []
    # one rebuild a save: a build reading the notes is no edit (inotify reports reads too; two saves
    # that built, and one failed build, print two lines, three if a save's write and rename came apart)
    assert (root.parent / "serve.log").read_text(encoding="utf-8").count("rebuilt in") <= 3
