"""Find checks by reading the snippets' source (``ast``), without importing torch or running anything."""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..diagnostics import Diagnostic
from ..file_digests import FileDigests
from ..memo import ParseMemo

HELPERS_DIR = "runnable_snippets"


@dataclass(frozen=True)
class Binding:
    equation: str  # note-key/label
    tex: str  # the LaTeX the check was written against
    line: int
    evaluates: bool = False  # the check evaluates the note's own LaTeX for this equation


@dataclass(frozen=True)
class CheckSpec:
    """One ``check_*`` function: where it is and which equations it verifies."""

    file: str  # relative to the project root
    function: str
    first_line: int  # first decorator line
    last_line: int
    bindings: tuple[Binding, ...]
    needs_cuda: str = ""

    @property
    def evaluates(self) -> bool:
        return any(b.evaluates for b in self.bindings)

    @cached_property  # asked for thousands of times per run: computed once per check
    def key(self) -> str:
        return Path(self.file).stem

    @cached_property
    def id(self) -> str:
        return f"{self.key}::{self.function}"

    @cached_property
    def equations(self) -> tuple[str, ...]:
        return tuple(b.equation for b in self.bindings)

    @cached_property
    def text(self) -> str:
        """``repr(self)``, once: every build digests what the index pages read of 12,120 checks, and
        a snippet's checks are the same objects from build to build while it is unchanged (memo)."""
        return repr(self)


def discover(root: Path, note_keys: set[str], memo: ParseMemo | None = None,
             files: FileDigests | None = None) -> tuple[list[CheckSpec], list[Diagnostic]]:
    """Every check in ``runnable_snippets/<note-key>.py``; other ``.py`` files there are helpers.
    ``memo``: where snippets parsed before (same bytes, same path) are found instead of parsed again;
    ``files``: the files' digests a long-lived caller keeps (an unchanged snippet is not even read)."""
    folder = root / HELPERS_DIR
    found: list[tuple[str, Diagnostic | None]] = []  # each snippet, with a symbolic link's problem, in file order
    read: dict[str, tuple[Path]] = {}  # what is parsed: the snippets, and with a memo the other files
    for file in sorted(folder.glob("*.py"), key=str) if folder.is_dir() else ():
        display = f"{HELPERS_DIR}/{file.name}"
        if file.is_symlink():
            found.append((display, Diagnostic(display, 0, "snippets must be regular files in the repository, not symbolic links; copy the code in")))
        elif file.stem in note_keys:
            found.append((display, None))
            read[display] = (file,)
        elif memo is not None:
            # the helpers too, though they hold no check: ``snippet_imports`` then looks up the
            # same files, and the memo keeps them all in memory from one lookup to the next
            read[display] = (file,)
    parsed = parsed_snippets(read, memo, files)
    specs, problems = [], []
    for display, problem in found:
        snippet = parsed[display] if problem is None else ParsedSnippet((), (problem,), ())
        specs += snippet.specs
        problems += snippet.problems
    return specs, problems


def parsed_snippets(read: dict[str, tuple[Path]], memo: ParseMemo | None, files: FileDigests | None) -> dict[str, "ParsedSnippet"]:
    """``parse_snippet`` of each file ``{display: (path,)}``, from the memo where the same bytes were parsed."""
    return (memo or ParseMemo()).file_values("snippet", read, files or FileDigests(),
                                             lambda display, data: parse_snippet(display, data[0]))


@dataclass(frozen=True)
class ParsedSnippet:
    """What a file of runnable_snippets/ was parsed into: its checks and the problems with them, and
    the modules it imports (for the checks' cache keys)."""
    specs: tuple[CheckSpec, ...]
    problems: tuple[Diagnostic, ...]
    imports: tuple[str, ...]
    readable: bool = True


def parse_snippet(display: str, data: bytes | None) -> ParsedSnippet:
    """A snippet's bytes (None: not a readable file), parsed once for both its checks and its imports
    (``discover`` and ``snippet_imports`` find the same value in the memo: a clean build parsed
    every snippet twice)."""
    if data is None:
        return ParsedSnippet((), (Diagnostic(display, 0, "cannot read the snippet; check its permissions"),), (), readable=False)
    try:
        tree = ast.parse(_source(data), filename=display)
    except (SyntaxError, UnicodeDecodeError) as exc:
        return ParsedSnippet((), (Diagnostic(display, getattr(exc, "lineno", 0) or 0, f"the snippet does not parse: {exc}"),), ())
    specs, problems = [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
            spec, spec_problems = _spec(node, display)
            specs.append(spec)
            problems += spec_problems
    return ParsedSnippet(tuple(specs), tuple(problems), _imports_in(tree))


def _source(data: bytes) -> str:
    """A Python file's bytes as ``Path.read_text(encoding="utf-8")`` reads them (universal newlines)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _spec(node: ast.FunctionDef, display: str) -> tuple[CheckSpec, list[Diagnostic]]:
    bindings, problems, needs_cuda = [], [], ""
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name)):
            continue
        args = {k.arg: k.value for k in decorator.keywords}
        if decorator.func.id == "check":
            equation = decorator.args[0] if decorator.args else args.get("equation")
            tex = args.get("tex") or (decorator.args[1] if len(decorator.args) > 1 else None)
            if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in (equation, tex)):
                problems.append(Diagnostic(display, decorator.lineno, f"{node.name}: @check needs a literal equation id and tex=r\"...\""))
                continue
            flag = args.get("evaluates")
            bindings.append(Binding(equation.value, tex.value, decorator.lineno, isinstance(flag, ast.Constant) and flag.value is True))
        elif decorator.func.id == "needs_cuda":
            reason = decorator.args[0] if decorator.args else None
            needs_cuda = reason.value if isinstance(reason, ast.Constant) else "needs a CUDA device"
    first = min([d.lineno for d in node.decorator_list] + [node.lineno])
    if not bindings:
        problems.append(Diagnostic(display, node.lineno, f"{node.name} verifies no equation: add @check(\"note-key/label\", tex=r\"...\")"))
    bindings.sort(key=lambda b: b.line)
    return CheckSpec(display, node.name, first, node.end_lineno or node.lineno, tuple(bindings), needs_cuda), problems


def local_imports(root: Path, file: Path, imports: dict[Path, list[str]] | None = None, complete: bool = False) -> list[Path]:
    """The helper modules in runnable_snippets/ that ``file`` imports, transitively (for the cache key).
    ``imports``: the modules each file was found to import, kept by the caller across calls (every
    snippet imports the harness: parsing it once per snippet was most of a build's check lookup).
    ``complete``: ``imports`` lists every file of the folder (``snippet_imports``), so a module it
    does not list (torch, math) is no helper, and is not looked for on disk."""
    folder = root / HELPERS_DIR
    imports = {} if imports is None else imports
    found: list[Path] = []
    pending = [file]
    while pending:
        current = pending.pop()
        if current not in imports:
            imports[current] = imported_modules(current)
        for name in imports[current]:
            candidate = folder / f"{name.split('.')[0]}.py"
            if candidate != file and candidate not in found and (candidate in imports or (not complete and candidate.exists())):
                found.append(candidate)
                pending.append(candidate)
    return sorted(found)


def helpers_of_every_file(root: Path, imports: dict[Path, list[str]]) -> dict[Path, list[Path]]:
    """``local_imports(root, file, imports, complete=True)`` of every file ``imports`` lists, at once:
    the folder's modules are a table by name (one ``Path`` made per file, not one per imported name
    per snippet, which was most of a build's check lookup at 3,000 notes)."""
    folder = root / HELPERS_DIR
    by_module = {file.stem: file for file in imports if file.parent == folder}
    direct = {file: [by_module[m] for m in dict.fromkeys(name.split(".")[0] for name in names) if m in by_module]
              for file, names in imports.items()}
    closures = {}
    for file in imports:
        found: set[Path] = set()
        pending = [file]
        while pending:
            for candidate in direct.get(pending.pop(), ()):
                if candidate != file and candidate not in found:
                    found.add(candidate)
                    pending.append(candidate)
        closures[file] = sorted(found, key=str)
    return closures


def snippet_imports(root: Path, memo: ParseMemo, files: FileDigests | None = None) -> dict[Path, list[str]]:
    """``imported_modules`` of every file in runnable_snippets/, from ``memo`` where the same bytes were
    parsed before: what ``local_imports`` looks up (one lookup for all, not one per snippet). A file
    that cannot be read is left out (``local_imports`` reads it itself, and finds no imports)."""
    folder = root / HELPERS_DIR
    read = {f"{HELPERS_DIR}/{file.name}": (file,) for file in sorted(folder.glob("*.py"), key=str)} if folder.is_dir() else {}
    parsed = parsed_snippets(read, memo, files)
    return {file: list(parsed[display].imports) for display, (file,) in read.items() if parsed[display].readable}


def imported_modules(file: Path) -> list[str]:
    """The absolute imports of a Python file (none when it cannot be read or parsed)."""
    try:
        data = file.read_bytes()
    except OSError:
        return []
    return list(module_imports(data))


def module_imports(data: bytes) -> tuple[str, ...]:
    """The absolute imports of a Python file's bytes (none when they do not parse)."""
    try:
        tree = ast.parse(_source(data))
    except (SyntaxError, UnicodeDecodeError):
        return ()
    return _imports_in(tree)


def _imports_in(tree: ast.Module) -> tuple[str, ...]:
    names: list[str] = []
    for node in _statements(tree.body):
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
    return tuple(names)


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones included (an import is a statement, so this finds every import
    ``ast.walk`` would, without visiting the expressions, which are most of a tree)."""
    for node in body:
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                yield from _statements(children)


def content_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:16]
