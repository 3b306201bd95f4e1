"""Read ``notes/*.md`` into ``NoteSource`` records: front matter with lines, body, citations, formulas."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..content_cache import digest
from ..diagnostics import Diagnostic
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


def read_notes(notes_dir: Path, display_dir: str = "notes", memo: ParseMemo | None = None) -> tuple[list[NoteSource], list[Diagnostic]]:
    """Every ``*.md`` directly in ``notes_dir``, sorted by key, and the problems met reading them.
    ``memo``: where notes parsed before (same text, same path) are found instead of parsed again."""
    files = [(file, f"{display_dir}/{file.name}") for file in sorted(notes_dir.glob("*.md"))]
    read = {display: _read_text(file, display) for file, display in files}
    parsed = (memo or ParseMemo()).results(parse_note, {display: (file.stem, display, read[display][0])
                                                        for file, display in files if not read[display][1]})
    sources, problems = [], []
    for file, display in files:
        problem = read[display][1]
        source, file_problems = _unreadable(file.stem, display, problem) if problem else parsed[display]
        sources.append(source)
        problems += file_problems
    for file in sorted(notes_dir.glob("*/**/*.md")):
        problems.append(Diagnostic(f"{display_dir}/{file.relative_to(notes_dir).as_posix()}", 0,
                                   f"notes live directly in {display_dir}/ as <key>.md; move it to {display_dir}/{file.name}"))
    return sources, problems


def read_note(file: Path, display_path: str, memo: ParseMemo | None = None) -> tuple[NoteSource, list[Diagnostic]]:
    text, problem = _read_text(file, display_path)
    if problem:
        source, problems = _unreadable(file.stem, display_path, problem)
    else:
        source, problems = (memo or ParseMemo()).one(parse_note, file.stem, display_path, text)
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


def _read_text(file: Path, display_path: str) -> tuple[str, Diagnostic | None]:
    try:
        if file.is_symlink():
            return "", Diagnostic(display_path, 0, "notes must be regular files, not symbolic links")
        data = file.read_bytes()
    except OSError as exc:
        return "", Diagnostic(display_path, 0, f"cannot read the note: {exc.strerror}")
    if len(data) > MAX_NOTE_BYTES:
        return "", Diagnostic(display_path, 0, f"the note is {len(data):,} bytes; a note may be at most {MAX_NOTE_BYTES:,} (split it or move data out)")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", Diagnostic(display_path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
