"""The writer's loop on real notes: the repository's own notes replicated N times (each copy with its
snippet, its check results and its BibTeX entry, keys renamed), built and checked as a writer does.

For each factor it prints, side by side in the same run:

  clean build        `papernotes build` with no build/ folder (no cache)
  warm build         again, nothing changed (every cache full)
  one-note edit      a sentence appended to one note, then `papernotes build`
  baseline build     the same knowledge base built by the generator at --baseline-rev (today's
                     full rebuild, from `git archive`; it keeps nothing across builds)
  plain mkdocs       `mkdocs build` of the same generated pages with mkdocs-material alone (no math
                     rendering, no search finishing): what the theme itself costs
  serve edit->page   `papernotes serve`: a note is written, then the served page is polled until it
                     shows the edit (what a writer waits for)
  warm check         `papernotes check` with every result in the cache

each as the median of --runs runs (builds in their own process), with peak memory.

    python benchmarks/writer_loop.py                      # x1 and x10
    python benchmarks/writer_loop.py --factors 40 --runs 1 --skip serve plain
    python benchmarks/writer_loop.py --factors 40 --runs 5 --baseline-rev 3300d6a --skip builds plain check
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.checks.discover import HELPERS_DIR, discover  # noqa: E402
from generator.checks.results import CheckResult, load_results, save_results  # noqa: E402
from generator.checks.runner import Cache, Environment, cache_key  # noqa: E402
from generator.project import Project  # noqa: E402

BIN = Path(sys.executable).parent
ENTRY = re.compile(r"^@\w+\{([^,\s]+),", re.MULTILINE)


def replicate(source: Project, root: Path, factor: int) -> Project:
    """``factor`` copies of every note of ``source`` in ``root``: copy 0 keeps the keys, copy i renames
    each note key K to K-rI in the notes, the snippets, the bibliography and the check results."""
    (root / "notes").mkdir(parents=True)
    (root / HELPERS_DIR).mkdir()
    for name in ("taxonomy.yml", "mkdocs.yml"):
        shutil.copy2(source.root / name, root / name)
    keys = sorted(p.stem for p in source.notes.glob("*.md"))
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(keys, key=len, reverse=True))) + r")(?![\w])")
    snippets = {p.stem: p.read_text(encoding="utf-8") for p in source.snippets.glob("*.py")}
    for name, text in snippets.items():
        if name not in keys:
            (root / HELPERS_DIR / f"{name}.py").write_text(text, encoding="utf-8")
    bib = source.bibliography.read_text(encoding="utf-8")
    entries = re.split(r"(?m)^(?=@)", bib)
    out_bib = [bib]
    for i in range(factor):
        rename = (lambda text: text) if i == 0 else (lambda text, i=i: pattern.sub(lambda m: f"{m[1]}-r{i}", text))
        for key in keys:
            new = key if i == 0 else f"{key}-r{i}"
            (root / "notes" / f"{new}.md").write_text(rename((source.notes / f"{key}.md").read_text(encoding="utf-8")), encoding="utf-8")
            if key in snippets:
                (root / HELPERS_DIR / f"{new}.py").write_text(rename(snippets[key]), encoding="utf-8")
        if i:
            out_bib += [rename(e) for e in entries if (m := ENTRY.match(e)) and m[1] in keys]
    (root / "references.bib").write_text("\n".join(out_bib), encoding="utf-8")
    project = Project(root)
    _replicate_results(source, project, pattern)
    return project


def _replicate_results(source: Project, project: Project, pattern: re.Pattern) -> None:
    """Every copy's check results, re-keyed to its snippet (and put in the check cache, so a warm
    `papernotes check` finds them as it would after running them)."""
    from generator.formulas import cached_katex
    from generator.load import load

    recorded = load_results(source.check_results)
    loaded = load(project, cached_katex(project.cache))
    if loaded.kb is None:
        sys.exit("the replicated knowledge base does not validate:\n" + "\n".join(map(str, loaded.problems[:20])))
    note_tex = {f"{n.key}/{f.label}": f.tex for n in loaded.kb.notes.values() for f in n.formulas if f.label}
    specs, _ = discover(project.root, set(loaded.kb.notes))
    cache, results = Cache(project.check_cache), {}
    for spec in specs:
        original_key = re.sub(r"-r\d+$", "", spec.key)
        original = recorded.get(f"{original_key}::{spec.function}")
        suffix = spec.key[len(original_key):]  # "-rI" of copy I, "" for copy 0
        if original is None:
            continue
        env = Environment(original.device, platform.python_version(), original.torch)
        snippet_hash = cache_key(project.root, spec, env, note_tex)
        result = CheckResult.from_json({**original.to_json(), "check": spec.id, "file": spec.file,
                                        "equations": list(spec.equations), "snippet_hash": snippet_hash,
                                        "evaluated": [pattern.sub(lambda m: f"{m[1]}{suffix}", e) for e in original.evaluated]})
        results[spec.id] = result
        cache.put(snippet_hash, result)
    save_results(project.check_results, results)


def timed(command: list[str], cwd: Path, **env: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process; exits on failure."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, **env})
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def baseline_generator(rev: str, into: Path) -> Path:
    """The generator package as it was at ``rev`` (``git archive``), to run with ``python -m``."""
    archive = subprocess.run(["git", "archive", rev, "generator"], cwd=REPO, capture_output=True, check=True).stdout
    tarfile.open(fileobj=BytesIO(archive)).extractall(into)
    return into


def plain_mkdocs(project: Project, into: Path) -> Path:
    """The pages ``papernotes build`` generates, as a plain mkdocs-material project."""
    from generator.checks.discover import discover as find
    from generator.checks.verification import verification
    from generator.formulas import cached_katex
    from generator.load import load
    from generator.render import pages
    from generator.site_build import write_docs

    kb = load(project, cached_katex(project.cache)).kb
    specs, _ = find(project.root, set(kb.notes))
    docs = into / "docs"
    write_docs(project, pages.render_pages(kb, verification(project, kb, specs)), docs)
    config = project.mkdocs_config.read_text(encoding="utf-8").replace("docs_dir: build/docs", f"docs_dir: {docs}")
    config = config.replace("site_dir: site", f"site_dir: {into / 'site'}")
    config = config.replace("      check_paths: true", f"      base_path: [{json.dumps(str(project.root))}]\n      check_paths: true")
    (into / "mkdocs.yml").write_text(config + "\nnav: " + json.dumps(pages.navigation(kb)) + "\n", encoding="utf-8")
    return into


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_latency(project: Project, runs: int, generator: Path | None = None) -> list[float]:
    """Seconds from writing a note to the served page showing the edit (``generator``: a folder
    holding another version of the generator package, run instead of this one)."""
    port = free_port()
    command = [sys.executable, "-m", "generator.cli", "--root", str(project.root), "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=generator or REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True, env={**os.environ, "PYTHONPATH": str(generator or REPO)})
    note = sorted(project.notes.glob("*.md"))[0]
    url = f"http://127.0.0.1:{port}/notes/{note.stem}/"
    try:
        _wait_for(url, lambda page: True, timeout=900)
        time.sleep(1.0)  # as before every edit: a writer does not save the instant the server is up
        latencies = []
        for i in range(runs):
            marker = f"writerloopedit{i}x{int(time.time())}"
            started = time.perf_counter()
            note.write_text(note.read_text(encoding="utf-8") + f"\n{marker}\n", encoding="utf-8")
            _wait_for(url, lambda page: marker in page, timeout=900)
            latencies.append(time.perf_counter() - started)
            time.sleep(1.0)  # let the server settle before the next edit
        return latencies
    finally:
        os.killpg(server.pid, 15)
        server.wait()


def _wait_for(url: str, ready, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if ready(response.read().decode("utf-8", "replace")):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    sys.exit(f"{url} did not show the edit within {timeout} s")


def row(factor: int, notes: int, label: str, samples: list[tuple[float, float]]) -> None:
    walls, peaks = [s[0] for s in samples], [s[1] for s in samples]
    print(f"{factor:>4} {notes:>6} {label:<20} {statistics.median(walls):>9.2f} {min(walls):>8.2f} {max(walls):>8.2f} "
          f"{max(peaks) if peaks else 0:>8.0f} {len(samples):>4}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rev", default="3ce9358", help="the generator the baseline builds run (default: main "
                        "before per-page incremental builds; 95472d8 is main before issue 13)")
    parser.add_argument("--skip", nargs="*", default=[], choices=("builds", "baseline", "plain", "serve", "check"),
                        help="builds: no clean, warm or edit build rows (the serve rows alone, each server building its site first)")
    args = parser.parse_args()
    source = Project(REPO)
    if not load_results(source.check_results):
        sys.exit("no check results in build/checks/results.json: run `papernotes check` in the repository first")
    print(f"{'x':>4} {'notes':>6} {'what':<20} {'median s':>9} {'min s':>8} {'max s':>8} {'peak MB':>8} {'runs':>4}")
    with tempfile.TemporaryDirectory(prefix="writer-loop-") as tmp:
        base = baseline_generator(args.baseline_rev, Path(tmp) / "baseline") if "baseline" not in args.skip else None
        for factor in args.factors:
            project = replicate(source, Path(tmp) / f"x{factor}", factor)
            notes = len(list(project.notes.glob("*.md")))
            build = [str(BIN / "papernotes"), "build"]
            note = sorted(project.notes.glob("*.md"))[-1]
            if "builds" not in args.skip:
                clean = []
                for _ in range(args.runs):
                    shutil.rmtree(project.cache, ignore_errors=True)
                    shutil.rmtree(project.work / "sites", ignore_errors=True)
                    clean.append(timed(build, project.root))
                row(factor, notes, "clean build", clean)
                row(factor, notes, "warm build", [timed(build, project.root) for _ in range(args.runs)])
                edits = []
                for i in range(args.runs):
                    note.write_text(note.read_text(encoding="utf-8") + f"\nEdited for the benchmark, run {i}.\n", encoding="utf-8")
                    edits.append(timed(build, project.root))
                row(factor, notes, "one-note edit build", edits)
            if base is not None and "builds" in args.skip:
                if "serve" not in args.skip:
                    row(factor, notes, "baseline serve", [(s, 0.0) for s in serve_latency(project, args.runs, base)])
                    shutil.rmtree(project.work / "sites", ignore_errors=True)  # the next server starts from its own build
            elif base is not None:
                command = [sys.executable, "-m", "generator.cli", "--root", str(project.root), "build"]
                clean_base = []
                for _ in range(args.runs):
                    shutil.rmtree(project.cache, ignore_errors=True)
                    shutil.rmtree(project.work / "sites", ignore_errors=True)
                    clean_base.append(timed(command, base, PYTHONPATH=str(base)))
                row(factor, notes, "baseline clean", clean_base)
                edits_base = []
                for i in range(args.runs):
                    note.write_text(note.read_text(encoding="utf-8") + f"\nEdited for the baseline, run {i}.\n", encoding="utf-8")
                    edits_base.append(timed(command, base, PYTHONPATH=str(base)))
                row(factor, notes, "baseline edit build", edits_base)
                if "serve" not in args.skip:
                    row(factor, notes, "baseline serve", [(s, 0.0) for s in serve_latency(project, args.runs, base)])
                shutil.rmtree(project.work / "sites", ignore_errors=True)  # the next builds start from their own
            if "plain" not in args.skip:
                plain = plain_mkdocs(project, Path(tmp) / f"plain{factor}")
                row(factor, notes, "plain mkdocs", [timed([str(BIN / "mkdocs"), "build", "--quiet"], plain) for _ in range(args.runs)])
            if "serve" not in args.skip:
                row(factor, notes, "serve edit->page", [(s, 0.0) for s in serve_latency(project, args.runs)])
            if "check" not in args.skip:
                row(factor, notes, "warm check", [timed([str(BIN / "papernotes"), "check"], project.root) for _ in range(args.runs)])
            shutil.rmtree(project.root)


if __name__ == "__main__":
    main()
