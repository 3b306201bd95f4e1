"""Read ``notes/*.md`` into ``NoteSource`` records: front matter with lines, body, citations, formulas."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..content_cache import digest
from ..diagnostics import Diagnostic
from ..file_digests import FileDigests
from ..markdown_scan import Scan, scan
from ..memo import ParseMemo
from .frontmatter import FrontMatter, FrontMatterError, split

MAX_NOTE_BYTES = 2_000_000


@dataclass(frozen=True)
class NoteSource:
    """A note file as read: ``front`` is None when the front matter could not be parsed."""

    key: str
    path: str  # as shown in messages, e.g. notes/kingma2014adam.md
    front: FrontMatter | None
    scan: Scan | None
    digest: str = ""  # of the key, path and text it was parsed from: what it is made of


def read_notes(notes_dir: Path, display_dir: str = "notes", memo: ParseMemo | None = None,
               files: FileDigests | None = None) -> tuple[list[NoteSource], list[Diagnostic]]:
    """Every ``*.md`` directly in ``notes_dir``, sorted by key, and the problems met reading them.
    ``memo``: where notes parsed before (same bytes, same path) are found instead of parsed again;
    ``files``: the files' digests a long-lived caller keeps (an unchanged note is not even read)."""
    paths = {f"{display_dir}/{file.name}": file for file in sorted(notes_dir.glob("*.md"), key=str)}
    parsed = (memo or ParseMemo()).file_values("note", {display: (file,) for display, file in paths.items()},
                                               files or FileDigests(), lambda display, data: _parse_file(paths[display], display, data[0]))
    sources, problems = [], []
    for display in paths:
        source, file_problems = parsed[display]
        sources.append(source)
        problems += file_problems
    for file in sorted(notes_dir.glob("*/**/*.md")):
        problems.append(Diagnostic(f"{display_dir}/{file.relative_to(notes_dir).as_posix()}", 0,
                                   f"notes live directly in {display_dir}/ as <key>.md; move it to {display_dir}/{file.name}"))
    return sources, problems


def _parse_file(file: Path, display_path: str, data: bytes | None) -> tuple[NoteSource, tuple[Diagnostic, ...]]:
    """A note file's bytes (None: not a readable regular file) parsed, or the problem with them."""
    text, problem = ("", _not_a_file(file, display_path)) if data is None else _decoded(data, display_path)
    if problem:
        return _unreadable(file.stem, display_path, problem)
    return parse_note(file.stem, display_path, text)


def read_note(file: Path, display_path: str) -> tuple[NoteSource, list[Diagnostic]]:
    """One note file, read and parsed as ``read_notes`` reads and parses each."""
    source, problems = _parse_file(file, display_path, FileDigests().read(file)[1])
    return source, list(problems)


def parse_note(key: str, display_path: str, text: str) -> tuple[NoteSource, tuple[Diagnostic, ...]]:
    """A note's text parsed: its front matter (YAML) and its body's citations and formulas. What the
    memo keeps: the file checks before it (a symbolic link, the size, UTF-8) are not parsing."""
    try:
        front = split(text)
    except FrontMatterError as exc:
        return NoteSource(key, display_path, None, None), (Diagnostic(display_path, exc.line, exc.message),)
    body_scan = scan(front.body, first_line=front.body_line)
    problems = tuple(Diagnostic(display_path, p.line, p.message) for p in body_scan.problems)
    return NoteSource(key, display_path, front, body_scan, digest(key, display_path, text)), problems


def _unreadable(key: str, display_path: str, problem: Diagnostic) -> tuple[NoteSource, tuple[Diagnostic, ...]]:
    return NoteSource(key, display_path, None, None), (problem,)


def _not_a_file(file: Path, display_path: str) -> Diagnostic:
    """Why a note could not be read as a regular file."""
    if file.is_symlink():
        return Diagnostic(display_path, 0, "notes must be regular files, not symbolic links")
    try:
        file.read_bytes()
    except OSError as exc:
        return Diagnostic(display_path, 0, f"cannot read the note: {exc.strerror}")
    return Diagnostic(display_path, 0, "the note changed while it was read; save it again")


def _decoded(data: bytes, display_path: str) -> tuple[str, Diagnostic | None]:
    if len(data) > MAX_NOTE_BYTES:
        return "", Diagnostic(display_path, 0, f"the note is {len(data):,} bytes; a note may be at most {MAX_NOTE_BYTES:,} (split it or move data out)")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", Diagnostic(display_path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
