"""Debian's Chromium and a local server for the built site: shared by the browser tests and
``benchmarks/page_weight.py``."""
from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = Path(os.environ.get("PAPERNOTES_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOC_ORIGIN = re.compile(r"(<loc>\s*)https?://[^/<]+/")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a built site. The sitemap's addresses are answered with this server's own origin, as
    if the site had been built with ``site_url`` set to it (``papernotes serve`` does exactly that):
    the theme's instant navigation only follows links to pages the sitemap lists at this origin."""

    def do_GET(self):  # noqa: N802 - the base class's name
        if urlsplit(self.path).path != "/sitemap.xml":
            return super().do_GET()
        origin = f"http://{self.headers['Host']}"
        sitemap = Path(self.directory) / "sitemap.xml"
        body = LOC_ORIGIN.sub(rf"\g<1>{origin}/", sitemap.read_text(encoding="utf-8")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(sitemap.stat().st_mtime)))  # cacheable like the rest
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextmanager
def serving(site: Path, handler: type[SiteHandler] = SiteHandler):
    """``site`` served on 127.0.0.1 on a free port, in a thread; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def launch(playwright):
    """Headless Debian Chromium (``playwright install`` is never needed)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
