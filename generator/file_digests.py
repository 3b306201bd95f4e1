"""What each input file holds, as a digest, kept while the file is unchanged: a long-lived process
(``serve``) reads and hashes only the files an edit touched, and a parse kept by a file's digest
(``ParseMemo.file_values``) is found with a ``stat``."""
from __future__ import annotations

import hashlib
import stat
import time
from pathlib import Path


class FileDigests:
    """What each file holds, as ``inputs_digest`` hashes it, kept across the builds of a long-lived
    process (``serve``): a file is read again only when its size, modification and change times,
    inode or type differ from when it was read, as git's index decides. A file read within
    ``RACY_NS`` of its last change is not kept (a write in the same clock tick as the read would
    leave all of those as they were): it is read again the next time. Reading and hashing every
    note and snippet was a tenth of an edit's build at 3,000 notes; a ``stat`` of each is far less."""

    RACY_NS = 2_000_000_000

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[tuple[int, ...], bytes]] = {}

    def digest(self, file: Path) -> bytes:
        """What ``file`` holds, as a digest: a ``stat`` when it is unchanged since it was last read."""
        try:
            status = file.lstat()
        except OSError:
            return hashlib.sha256(b"-").digest()
        known = self._seen.get(file)
        if known is not None and known[0] == _signature(status):
            return known[1]
        return self._read(file, status)[0]

    def read(self, file: Path) -> tuple[bytes, bytes | None]:
        """``file`` read now: the digest of what was read, and the bytes (None for anything but a
        readable regular file: a symbolic link, a folder, a missing file). The digest is the one
        ``digest`` gives for those bytes, so a value found by one and made from the other match."""
        try:
            status = file.lstat()
        except OSError:
            return hashlib.sha256(b"-").digest(), None
        return self._read(file, status)

    def _read(self, file: Path, status) -> tuple[bytes, bytes | None]:
        data = None
        try:
            if stat.S_ISLNK(status.st_mode):
                marked = b"@" + str(file.readlink()).encode()
            else:
                data = file.read_bytes()
                marked = b"+" + data
        except OSError:
            data, marked = None, b"-"
        value = hashlib.sha256(marked).digest()
        if time.time_ns() - max(status.st_mtime_ns, status.st_ctime_ns) > self.RACY_NS:
            self._seen[file] = (_signature(status), value)
        else:
            self._seen.pop(file, None)
        return value, data

    def one_build(self) -> "FileDigests":
        """The files as one build sees them: each file's digest taken the first time a stage asks for
        it, and kept for the rest of the build (as kept by this object across builds), so that every
        stage works from one view of a file and a file is looked at once per build, not once per
        stage that reads it (a note twice, a snippet up to four times)."""
        return _OneBuild(self)


def _signature(status) -> tuple[int, ...]:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_mode)


class _OneBuild(FileDigests):
    def __init__(self, kept: FileDigests) -> None:
        super().__init__()
        self._seen = kept._seen  # what is learnt here is kept for the next build
        self.RACY_NS = kept.RACY_NS
        self._now: dict[Path, bytes] = {}

    def digest(self, file: Path) -> bytes:
        if file not in self._now:
            self._now[file] = super().digest(file)
        return self._now[file]

    def read(self, file: Path) -> tuple[bytes, bytes | None]:
        found = super().read(file)
        self._now[file] = found[0]
        return found
