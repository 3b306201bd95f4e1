"""The ``papernotes`` command: validate, build, serve. The only place that prints or exits."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .diagnostics import Diagnostic
from .formulas import Katex
from .load import load
from .project import Project


def report(problems: list[Diagnostic], out=None) -> int:
    """Print every problem as ``path:line: message`` and return the exit code."""
    out = out or sys.stderr
    for problem in problems:
        print(problem, file=out)
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        print(f"{errors} error{'s' if errors != 1 else ''}; nothing was written.", file=out)
    return 1 if errors else 0


def cmd_validate(project: Project, args) -> int:
    loaded = load(project, Katex())
    code = report(loaded.problems)
    if code == 0:
        kb = loaded.kb
        print(f"ok: {len(kb.notes)} notes, {len(kb.references)} references, {len(kb.taxonomy.categories)} categories")
    return code


def cmd_build(project: Project, args) -> int:
    from .site_build import build

    started = time.perf_counter()
    code = report(build(project))
    if code == 0:
        print(f"built {project.display(project.site)}/ in {time.perf_counter() - started:.1f} s")
    return code


def cmd_serve(project: Project, args) -> int:
    from .serve import serve

    return serve(project, host=args.host, port=args.port, report=report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="papernotes", description="Paper notes with checked equations -> an offline website.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the knowledge base's folder (default: the current one)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check every note, taxonomy.yml and references.bib; print problems as path:line: message")
    commands.add_parser("build", help="validate, then build the site into site/ (the previous site stays on any error)")
    serve_parser = commands.add_parser("serve", help="build, serve on localhost, rebuild on edits")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    project = Project(args.root.resolve())
    handler = {"validate": cmd_validate, "build": cmd_build, "serve": cmd_serve}[args.command]
    return handler(project, args)


if __name__ == "__main__":
    sys.exit(main())
