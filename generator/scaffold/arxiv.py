"""Fetch a paper's metadata from the arXiv API as a BibTeX entry (``papernotes new --arxiv ID``)."""
from __future__ import annotations

import os
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from .entry import BibEntry

API = "https://export.arxiv.org/api/query"
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}


class ArxivError(Exception):
    """Why no entry came back, in words a contributor can act on."""


def fetch_entry(arxiv_id: str, key: str, timeout: float = 15.0) -> BibEntry:
    if not ARXIV_ID.match(arxiv_id):
        raise ArxivError(f"'{arxiv_id}' is not an arXiv id (like 1706.03762 or hep-th/9901001)")
    api = os.environ.get("PAPERNOTES_ARXIV_API", API)
    url = f"{api}?{urllib.parse.urlencode({'id_list': arxiv_id, 'max_results': 1})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            feed = response.read()
    except urllib.error.HTTPError as exc:
        raise ArxivError(f"the arXiv API at {api} answered HTTP {exc.code}; try again later, or pass the entry with --bib FILE") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArxivError(f"cannot reach the arXiv API at {api} ({reason}); check the network, or export the entry as BibTeX and pass --bib FILE") from None
    return entry_from_feed(feed, arxiv_id, key)


def entry_from_feed(feed: bytes, arxiv_id: str, key: str) -> BibEntry:
    try:
        root = ET.fromstring(feed)
    except ET.ParseError:
        raise ArxivError("the arXiv API answered with something that is not an Atom feed; pass the entry with --bib FILE") from None
    entry = root.find("atom:entry", NS)
    title = _text(entry, "atom:title") if entry is not None else ""
    if entry is None or not title or _text(entry, "atom:id").endswith("/api/errors"):
        raise ArxivError(f"arXiv has no paper {arxiv_id}")
    authors = [_text(a, "atom:name") for a in entry.findall("atom:author", NS)]
    bare_id = re.sub(r"v\d+$", "", arxiv_id)
    fields = [("title", title), ("author", " and ".join(a for a in authors if a)),
              ("year", _text(entry, "atom:published")[:4])]
    if doi := _text(entry, "arxiv:doi"):
        fields.append(("doi", doi))
    fields += [("eprint", bare_id), ("archiveprefix", "arXiv")]
    primary = entry.find("arxiv:primary_category", NS)
    if primary is not None and primary.get("term"):
        fields.append(("primaryclass", primary.get("term")))
    fields.append(("url", f"https://arxiv.org/abs/{bare_id}"))
    return BibEntry(key, "misc", tuple(fields))


def _text(node, path: str) -> str:
    found = node.find(path, NS)
    return " ".join((found.text or "").split()) if found is not None else ""
