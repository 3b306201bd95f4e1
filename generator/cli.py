"""The ``papernotes`` command: validate, build, serve. The only place that prints or exits."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .diagnostics import Diagnostic
from .formulas import cached_katex
from .load import load
from .memo import cached_memo
from .project import Project
from .search import BUNDLE_PAGES


def report(problems: list[Diagnostic], out=None, consequence: str = "nothing was written", strict: bool = False) -> int:
    """Print every problem as ``path:line: message`` (``path:line: warning: message`` for a warning)
    and return the exit code: 1 on any error, or, when ``strict``, on any warning."""
    out = out or sys.stderr
    for problem in problems:
        print(problem, file=out)
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if errors:
        print(f"{errors} error{'s' if errors != 1 else ''}{'; ' + consequence if consequence else ''}.", file=out)
    if warnings and strict:
        print(f"{warnings} warning{'s' if warnings != 1 else ''}, which --strict counts as errors.", file=out)
    return 1 if errors or (strict and warnings) else 0


def cmd_validate(project: Project, args) -> int:
    only, problems = notes_named(project, args.paths)
    if problems:
        return report(problems, consequence="")
    loaded = load(project, cached_katex(project.cache), only, cached_memo(project.cache))
    code = report(loaded.problems, consequence="", strict=args.strict)
    if code == 0 and loaded.kb is not None:
        kb = loaded.kb
        print(f"ok: {len(kb.notes)} notes, {len(kb.references)} references, {len(kb.taxonomy.categories)} categories")
    elif code == 0:
        print(f"ok: {', '.join(sorted(only))}")
    return code


def notes_named(project: Project, paths: list[Path]) -> tuple[frozenset[str] | None, list[Diagnostic]]:
    """The note keys ``validate PATH...`` should look at: None (everything) when no path or a path
    outside notes/ is given, since a change to references.bib or taxonomy.yml can break any note."""
    if not paths:
        return None, []
    keys, problems, everything = set(), [], False
    for path in paths:
        resolved = (Path.cwd() / path).resolve()
        if not resolved.exists():
            problems.append(Diagnostic(str(path), 0, "no such file"))
        elif resolved.parent == project.notes.resolve() and resolved.suffix == ".md":
            keys.add(resolved.stem)
        elif resolved.is_relative_to(project.root):
            everything = True
        else:
            problems.append(Diagnostic(str(path), 0, f"not in this knowledge base ({project.root}): give paths like notes/<key>.md"))
    return (None if everything else frozenset(keys)), problems


def cmd_build(project: Project, args) -> int:
    from .site_build import build

    started = time.perf_counter()
    code = report(build(project, site_url=args.site_url, jobs=args.jobs, search_bundle_pages=args.search_bundle_pages))
    if code == 0:
        print(f"built {project.display(project.site)}/ in {time.perf_counter() - started:.1f} s")
    return code


def cmd_check(project: Project, args) -> int:
    from .checks.runner import Limits
    from .checks.suite import Options, run_suite

    memo = cached_memo(project.cache)  # the notes and snippets parsed by an earlier command
    loaded = load(project, cached_katex(project.cache), memo=memo)
    if report(loaded.problems):
        return 1
    k, _, n = args.shard.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        print(f"--shard must be K/N with 1 <= K <= N, not {args.shard!r}", file=sys.stderr)
        return 2
    options = Options(tuple(args.targets), args.device, args.jobs, (int(k), int(n)), args.refresh,
                      Limits(timeout=args.timeout, memory_mb=args.memory))
    started = time.perf_counter()
    suite = run_suite(project, loaded.kb, options, progress=_progress if sys.stderr.isatty() else None, memo=memo)
    if suite.problems:
        return report(suite.problems)
    print_check_report(suite, time.perf_counter() - started)
    return 1 if suite.failed else 0


def _progress(result, done: int, total: int) -> None:
    print(f"\r\033[K[{done}/{total}] {result.status:7} {result.check}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def print_check_report(suite, seconds: float) -> None:
    for result in suite.results:
        if result.ok:
            continue
        print(f"{result.status.upper()} {result.check} ({result.file}:{result.line})")
        print(f"    equations: {', '.join(result.equations)}")
        for line in result.message.splitlines() or [""]:
            print(f"    {line}")
    for result in suite.results:
        if result.status == "skipped":
            print(f"SKIPPED {result.check}: {result.message}")
    cov = suite.coverage
    if cov is not None:
        checked = [e for e in cov.equations if e.id in cov.checked]
        total = len(cov.equations)
        print(f"equations: {total} in the notes; {len(checked)} checked: {len(cov.evaluated)} evaluated from the note's own formula "
              f"({100 * len(cov.evaluated) / max(total, 1):.0f}% of all), {len(cov.bound)} by code written for the formula "
              f"({len(cov.bound_without_reason)} without a not_evaluated reason); {len(cov.unchecked)} unchecked with a reason, "
              f"{len(cov.uncovered)} not covered{':' if cov.uncovered else ''}")
        for equation in cov.uncovered:
            print(f"    notes/{equation.note}.md:{equation.line}: {equation.id} has no check")
    counts = {status: sum(1 for r in suite.results if r.status == status) for status in ("passed", "failed", "skipped", "error", "timeout")}
    cached = sum(1 for r in suite.results if r.cached)
    env = suite.environment
    print(f"device {env.device}, torch {env.torch}, python {env.python}; {len(suite.results) - cached} run, {cached} from cache, {seconds:.1f} s")
    extra = "".join(f", {counts[s]} {s}" for s in ("error", "timeout") if counts[s])
    print(f"{counts['passed']} passed, {counts['failed'] + counts['error'] + counts['timeout']} failed, {counts['skipped']} skipped{extra}")


def cmd_new(project: Project, args) -> int:
    import datetime as dt

    from .scaffold.arxiv import ArxivError, fetch_entry
    from .scaffold.entry import parse_entry
    from .scaffold.files import plan, write

    if args.arxiv:
        try:
            entry, problems = fetch_entry(args.arxiv, args.key), []
        except ArxivError as exc:
            entry, problems = None, [Diagnostic(f"arXiv:{args.arxiv}", 0, str(exc))]
    else:
        source = "<stdin>" if str(args.bib) == "-" else str(args.bib)
        try:
            text = sys.stdin.read() if source == "<stdin>" else args.bib.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return report([Diagnostic(source, 0, f"cannot read the BibTeX entry: {exc}")])
        entry, problems = parse_entry(text, args.key, source)
    if entry is not None:
        scaffold, problems = plan(project, entry, dt.date.today())
    if problems:
        return report(problems)
    write(scaffold)
    for path in (scaffold.note, scaffold.snippet):
        print(f"created {project.display(path)}")
    print(f"added {args.key} to {project.display(scaffold.bibliography)}:\n\n{entry.text}")
    print(f"next: write the note and its check, then run\n  papernotes validate {project.display(scaffold.note)}\n  papernotes check {args.key}")
    return 0


def cmd_serve(project: Project, args) -> int:
    from .serve import serve

    return serve(project, host=args.host, port=args.port, report=report, search_bundle_pages=args.search_bundle_pages)


def positive(text: str) -> int:
    """An argument that must be a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above zero, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="papernotes", description="Paper notes with checked equations -> an offline website.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the knowledge base's folder (default: the current one)")
    commands = parser.add_subparsers(dest="command", required=True)
    validate_parser = commands.add_parser("validate", help="check the notes, taxonomy.yml and references.bib; print problems as path:line: message")
    validate_parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                                 help="only these notes (checked against the whole knowledge base); default: everything")
    validate_parser.add_argument("--strict", action="store_true",
                                 help="fail on warnings too (style rules such as a long TL;DR or a missing added:), as CI does on a pull request")
    build_parser = commands.add_parser("build", help="validate, then build the site into site/ (the previous site stays on any error)")
    build_parser.add_argument("--site-url", metavar="URL", help="where the site is published (default: mkdocs.yml's); "
                              "the theme's instant navigation follows links only to pages listed under it")
    build_parser.add_argument("-j", "--jobs", type=int, metavar="N", help="processes a clean build renders pages with "
                              "(default: the usable CPUs once there are 40 pages; 1 renders in this process)")
    for command in (build_parser, serve_parser := commands.add_parser("serve", help="build, serve on localhost, rebuild on edits")):
        command.add_argument("--search-bundle-pages", type=positive, default=BUNDLE_PAGES, metavar="N",
                             help=f"the most pages of one language in one search bundle (default {BUNDLE_PAGES}); a language with more is "
                                  "cut into parts, indexed one at a time: Pagefind holds a bundle in memory while it writes it (about "
                                  "0.55 MB a page), but a reader's first search waits for every part (at 3,000 notes, 1200 halves "
                                  "Pagefind's 1.2 GB, and about doubles the first search's time)")
    check_parser = commands.add_parser("check", help="run the equation checks in runnable_snippets/, each isolated, cached")
    check_parser.add_argument("targets", nargs="*", metavar="KEY|EQUATION-ID", help="note keys, equation ids or check ids (default: all)")
    check_parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: CUDA when an NVIDIA driver is present")
    check_parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="checks run in parallel (default: CPU count)")
    check_parser.add_argument("--shard", default="1/1", metavar="K/N", help="run the K-th of N equal slices (for several CI machines)")
    check_parser.add_argument("--refresh", action="store_true", help="ignore cached results")
    check_parser.add_argument("--timeout", type=float, default=120.0, help="seconds per check (default 120)")
    check_parser.add_argument("--memory", type=int, default=2048, help="memory cap per check, MB (default 2048)")
    new_parser = commands.add_parser("new", help="start a note: add its BibTeX entry, write notes/KEY.md and a check skeleton")
    new_parser.add_argument("key", metavar="KEY", help="the note's key, e.g. vaswani2017attention (the entry is re-keyed to it)")
    source = new_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bib", type=Path, metavar="FILE", help="a file with the BibTeX entry (as Zotero or Google Scholar export it); - reads standard input")
    source.add_argument("--arxiv", metavar="ID", help="fetch the entry from the arXiv API, e.g. 1706.03762")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    project = Project(args.root.resolve())
    handler = {"validate": cmd_validate, "build": cmd_build, "check": cmd_check, "new": cmd_new, "serve": cmd_serve}[args.command]
    return handler(project, args)


if __name__ == "__main__":
    sys.exit(main())
