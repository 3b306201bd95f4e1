"""A content-addressed store under ``build/cache/``: a value is found by the hash of everything it was
made from, so it is never stale, only unused. Several processes (``serve``, ``build``, ``check``) may
use it at once (SQLite's locking). A missing, locked or corrupt store is a miss, never an error."""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Iterable


def digest(*parts: str | bytes) -> str:
    """The key of a value made from ``parts`` (length-prefixed, so parts never run together); a file's
    bytes are a part as they are (decoding them only to hash them would cost a decode)."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


class ContentCache:
    """``get_many``/``put_many`` of values by key, in one SQLite file. A value is text or bytes and
    comes back as it was put (SQLite keeps a blob as a blob, whatever the column's declared type)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._pid = 0  # the process that opened the connection

    def _db(self) -> sqlite3.Connection:
        # a forked process (a build's page renderers) opens its own: SQLite connections must not cross a fork
        if self._connection is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
            connection.execute("CREATE TABLE IF NOT EXISTS entry (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def get_many(self, keys: Iterable[str]) -> dict[str, str | bytes]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str | bytes] = {}
        try:
            db = self._db()
            for i in range(0, len(wanted), 500):  # SQLite caps the number of bound parameters
                chunk = wanted[i:i + 500]
                rows = db.execute(f"SELECT key, value FROM entry WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update(rows.fetchall())
        except (sqlite3.Error, OSError):
            return {}
        return found

    def put_many(self, items: dict[str, str | bytes]) -> None:
        if not items:
            return
        try:
            db = self._db()
            with db:
                db.executemany("INSERT OR REPLACE INTO entry (key, value) VALUES (?, ?)", items.items())
        except (sqlite3.Error, OSError):
            pass  # a cache that cannot be written only costs the next build the work again

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
