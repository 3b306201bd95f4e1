"""Parsed inputs kept across builds and commands: what a note's front matter and Markdown scan, the
taxonomy, the bibliography, a snippet's checks and its imports were parsed into, found by the hash
of what they were parsed from.

Why: every command reads the whole knowledge base, and parsing it (YAML, the Markdown scan, BibTeX,
``ast.parse`` of every snippet) was most of a warm ``papernotes check`` and a third of ``serve``'s
rebuild after a one-note edit, though an edit changes one file.

A value is the result of a parse function called with ``str``/``bytes`` arguments; its key is the
function's name, the arguments (a file's text or bytes and its path as messages show it) and the
generator's fingerprint with the Python version (the code that decides what parsing makes of them,
``ast`` included), so a value is never stale, only unused.

Two layers: in memory, the values of the last lookup with each function (``serve`` keeps one memo
across rebuilds and reads nothing back for the files an edit did not touch); on disk, a
``ContentCache`` (a later command unpickles instead of parsing). Values are pickled because front
matter holds whatever YAML makes (dates, non-string keys), which JSON would not give back; the store
is the project's own ``build/`` folder, which this tool writes, and whoever can write it can write
the snippets ``papernotes check`` runs. An entry that cannot be read back is a miss.

A value is shared by every caller that finds it: never mutate one (the readers hand on copies of the
lists and dicts in it; the records are frozen).
"""
from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path
from typing import Callable, Hashable, Mapping, TypeVar

from .content_cache import ContentCache, digest
from .file_digests import FileDigests

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ParseMemo:
    """``results(parse, arguments)``: ``parse(*args)`` for each item, from the memo where the same
    function was called with the same arguments before. Without a ``store``, only in memory."""

    def __init__(self, store: ContentCache | None = None, version: str = "") -> None:
        self._store = store
        self._version = version
        self._recent: dict[str, dict[str, object]] = {}
        # per kind of ``file_values``: (extra, each item's file digests, the values) of the last lookup
        self._last_lookup: dict[str, tuple[str, dict, dict]] = {}
        # ``text_digests``: id(text) -> (the text, held so that its id is not reused, its digest)
        self._text_digests: dict[int, tuple[str, str]] = {}
        self.computed: dict[str, int] = {}  # values computed rather than found, by kind

    def results(self, parse: Callable[..., V], arguments: Mapping[K, tuple[str | bytes, ...]]) -> dict[K, V]:
        """``{item: parse(*args)}`` for ``arguments`` ``{item: args}``. ``args`` must be all that the
        value depends on besides the generator's code."""
        kind = f"{parse.__module__}.{parse.__qualname__}"
        return self.values(kind, {item: digest(*args) for item, args in arguments.items()}, lambda item: parse(*arguments[item]))

    def values(self, kind: str, inputs: Mapping[K, str], compute: Callable[[K], V]) -> dict[K, V]:
        """``{item: compute(item)}`` for the items of ``inputs`` ``{item: digest}``, from the memo
        where a value of ``kind`` was computed from the same digest before. The digest must cover all
        that the value depends on besides the generator's code (``kind`` names what ``compute`` makes)."""
        keys = {item: digest(kind, self._version, key) for item, key in inputs.items()}
        recent = self._recent.get(kind, {})
        known = {key: recent[key] for key in keys.values() if key in recent}
        known.update(self._load([key for key in keys.values() if key not in known]))
        new = {}
        for item, key in keys.items():
            if key not in known:
                known[key] = new[key] = compute(item)
                self.computed[kind] = self.computed.get(kind, 0) + 1
        self._save(new)
        # only this lookup's values stay in memory: a long-lived process holds one knowledge base's
        # worth, not every version of every file it has seen
        self._recent[kind] = known
        return {item: known[key] for item, key in keys.items()}

    def file_values(self, kind: str, files: Mapping[K, tuple[Path, ...]], seen: FileDigests,
                    compute: Callable[[K, tuple[bytes | None, ...]], V], extra: str = "") -> dict[K, V]:
        """``{item: compute(item, contents)}`` for ``files`` ``{item: the files its value is made of}``,
        ``contents`` being those files' bytes (None for one that is not a readable regular file), from
        the memo where a value of ``kind`` was made for the same item from the same bytes. ``seen``
        gives an unchanged file's digest from a ``stat``: an item whose files did not change is neither
        read nor hashed. The others are read once, and a value is kept under the digests of the very
        bytes it was made from (a file written during the lookup is never kept under what it held
        before). ``str(item)`` and ``extra`` must be all the value depends on besides those bytes and
        the generator's code."""
        def key(item: K, digests: tuple[bytes, ...]) -> str:
            return digest(kind, self._version, extra, str(item), *digests)

        if self._store is None and kind not in self._recent:  # nothing to find: each file read once
            self._recent[kind] = {}
            used: dict[K, tuple[bytes, ...] | None] = {item: None for item in files}
        else:
            used = {item: tuple(seen.digest(file) for file in paths) for item, paths in files.items()}
            last = self._last_lookup.get(kind)
            if last is not None and last[0] == extra and last[1] == used:
                # every file as it was at the last lookup of this kind: the same keys, the same values
                # (making 3,000 keys was most of a lookup that changed nothing)
                return dict(last[2])
        keys = {item: "" if digests is None else key(item, digests) for item, digests in used.items()}
        recent = self._recent.get(kind, {})
        known = {key: recent[key] for key in keys.values() if key in recent}
        known.update(self._load([key for key in keys.values() if key and key not in known]))
        new = {}
        for item, paths in files.items():
            if keys[item] in known:
                continue
            read = [seen.read(file) for file in paths]
            used[item] = tuple(file_digest for file_digest, _ in read)
            keys[item] = found = key(item, used[item])
            if found not in known:
                known[found] = new[found] = compute(item, tuple(data for _, data in read))
                self.computed[kind] = self.computed.get(kind, 0) + 1
        self._save(new)
        self._recent[kind] = {key: known[key] for key in keys.values()}
        values = {item: known[key] for item, key in keys.items()}
        # the digests each value was made from or found by: the bytes read, when a file was read
        self._last_lookup[kind] = (extra, used, values)
        return dict(values)

    def text_digests(self, texts: Mapping[K, str]) -> dict[K, str]:
        """The SHA-256 of each text (UTF-8), remembered by the text object until the next call: a page
        found in the memo is the same object from build to build (``serve``), and hashing the 3,000
        note pages' Markdown (46 MB) was a twentieth of an edit's build."""
        last, kept, digests = self._text_digests, {}, {}
        for item, text in texts.items():
            known = last.get(id(text))
            found = known[1] if known is not None and known[0] is text else hashlib.sha256(text.encode("utf-8")).hexdigest()
            kept[id(text)] = (text, found)
            digests[item] = found
        self._text_digests = kept
        return digests

    @property
    def parsed(self) -> int:
        """Values computed rather than found, of every kind: what a warm run should keep at 0."""
        return sum(self.computed.values())

    def one(self, parse: Callable[..., V], *args: str | bytes) -> V:
        return self.results(parse, {0: args})[0]

    def _load(self, keys: list[str]) -> dict[str, object]:
        if self._store is None or not keys:
            return {}
        found = {}
        for key, value in self._store.get_many(keys).items():
            if not isinstance(value, bytes):
                continue
            try:
                found[key] = pickle.loads(value)
            except Exception:  # truncated or foreign bytes raise any of a dozen exception types: a miss
                continue
        return found

    def _save(self, values: dict[str, object]) -> None:
        if self._store is None or not values:
            return
        stored = {}
        for key, value in values.items():
            try:
                stored[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # a value pickle refuses (too deeply nested): parsed again next time
                continue
        self._store.put_many(stored)


def cached_memo(folder: Path) -> ParseMemo:
    """A memo that keeps its values in ``folder`` across builds and commands."""
    from .fingerprint import generator_fingerprint

    return ParseMemo(ContentCache(folder / "content.sqlite"), f"{generator_fingerprint()} python {sys.version}")
