"""Mutation benchmark: does a wrong equation, re-bound as a careless contributor would, still pass?

For every checked equation of the repository's notes, make one wrong version of its LaTeX (a sign, a
constant, a function or an index limit changed; the kind is chosen per equation among those that apply),
write it into a copy of the knowledge base, re-bind every check of that equation to the new text (its
``tex=``, so the "equation changed" guard is silenced), and run its checks with ``papernotes check``. A mutant
is *caught* when one of its checks fails. Equations are grouped by how their last run checked them
(``build/checks/results.json``: evaluated from the note's formula, or code bound to its text), and the
figures are printed per kind of mutation and per kind of check.

    python benchmarks/mutation.py                   # every checked equation (run `papernotes check` first)
    python benchmarks/mutation.py --evaluated-only  # only the equations evaluated from their formula
    python benchmarks/mutation.py --keys kingma2014adam vaswani2017attention

One mutant per note is run at a time, so all notes' mutants of one round share a single
``papernotes check`` (rounds = the most checked equations any note has).
"""
from __future__ import annotations

import argparse
import ast
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.markdown_scan import scan  # noqa: E402
from generator.readers.frontmatter import split  # noqa: E402

PAPERNOTES = str(Path(sys.executable).parent / "papernotes")
COPIED = ("notes", "runnable_snippets", "taxonomy.yml", "references.bib", "mkdocs.yml")
KINDS = ("function", "index", "sign", "constant")


@dataclass(frozen=True)
class Mutant:
    equation: str  # note-key/label
    kind: str  # one of KINDS
    before: str
    after: str


# --- making wrong equations -------------------------------------------------------------------

FUNCTION_SWAPS = [(r"\exp", r"\log"), (r"\log", r"\exp"), (r"\ln", r"\exp"), (r"\sin", r"\cos"), (r"\cos", r"\sin"),
                  (r"\tanh", r"\sigma"), (r"\max", r"\min"), (r"\min", r"\max"), (r"\sqrt", r"\sqrt[3]"),
                  (r"\mathrm{softmax}", r"\exp"), (r"\operatorname{softmax}", r"\exp")]


def _script_mask(tex: str) -> list[str]:
    """For each character: '' in the main expression, '_' inside a subscript, '^' inside a superscript."""
    mask = [""] * len(tex)
    i = 0
    while i < len(tex):
        if tex[i] in "_^" and i + 1 < len(tex):
            kind, j = tex[i], i + 1
            while j < len(tex) and tex[j] == " ":
                j += 1
            if j < len(tex) and tex[j] == "{":
                depth, k = 0, j
                while k < len(tex):
                    depth += tex[k] == "{"
                    depth -= tex[k] == "}"
                    if depth == 0:
                        break
                    k += 1
            elif j < len(tex) and tex[j] == "\\":
                k = j + 1
                while k < len(tex) and tex[k].isalpha():
                    k += 1
                k -= 1
            else:
                k = j
            for p in range(i, min(k + 1, len(tex))):
                mask[p] = mask[p] or kind
            i = k + 1
        else:
            i += 1
    return mask


def _right_of_relation(tex: str) -> int:
    """Where the formula's right-hand side starts (after the first top-level relation), else 0: the
    left-hand side is usually the name being defined, and changing a name is not a wrong formula."""
    match = re.search(r"(?<![\\<>!])=|\\approx|\\le(?:q)?\b|\\ge(?:q)?\b|\\propto|\\equiv", tex)
    return match.end() if match else 0


def function_mutant(tex: str, start: int) -> str | None:
    hits = [(tex.find(old, start), old, new) for old, new in FUNCTION_SWAPS]
    hits = [(i, old, new) for i, old, new in hits if i >= 0 and not tex[i + len(old):i + len(old) + 1].isalpha()]
    if not hits:
        return None
    i, old, new = min(hits)
    return tex[:i] + new + tex[i + len(old):]


def index_mutant(tex: str, start: int) -> str | None:
    limit = re.compile(r"(\\(?:sum|prod)\s*_\s*\{[^{}=]*=\s*)([^{}]+)(\})").search(tex, start)
    if limit:
        return tex[:limit.start(2)] + f"{limit.group(2).strip()}+1" + tex[limit.end(2):]
    shifted = re.compile(r"_\{([A-Za-z])\s*([-+])\s*1\}").search(tex, start)
    if shifted:
        return tex[:shifted.start()] + f"_{{{shifted.group(1)}}}" + tex[shifted.end():]
    return None


def sign_mutant(tex: str, start: int) -> str | None:
    mask = _script_mask(tex)
    for i in range(start, len(tex)):
        if tex[i] in "+-" and not mask[i] and not tex[max(0, i - 3):i].endswith("\\p"):
            return tex[:i] + ("-" if tex[i] == "+" else "+") + tex[i + 1:]
    return None


def constant_mutant(tex: str, start: int) -> str | None:
    mask = _script_mask(tex)
    for number in re.finditer(r"\d+(?:\.\d+)?", tex):
        if number.start() >= start and mask[number.start()] != "_" and not tex[max(0, number.start() - 1)].isalpha():
            text = number.group()
            changed = str(int(text) + 1) if "." not in text else text[:-1] + str((int(text[-1]) + 1) % 10)
            return tex[:number.start()] + changed + tex[number.end():]
    return None


MUTATORS = {"function": function_mutant, "index": index_mutant, "sign": sign_mutant, "constant": constant_mutant}


def mutant_of(equation: str, tex: str) -> Mutant | None:
    """One wrong version of ``tex``: the kind is picked by the equation id among the kinds that apply."""
    start = _right_of_relation(tex)
    options = [(kind, MUTATORS[kind](tex, start)) for kind in KINDS]
    options = [(kind, after) for kind, after in options if after and after != tex]
    if not options:
        return None
    kind, after = options[zlib.crc32(equation.encode()) % len(options)]
    return Mutant(equation, kind, tex, after)


# --- applying one round of mutants to a copy --------------------------------------------------

def note_formulas(root: Path, key: str) -> dict[str, tuple[int, int, str]]:
    """label -> (start, end, tex) of the note's labelled display formulas, offsets in the whole file."""
    text = (root / "notes" / f"{key}.md").read_text(encoding="utf-8")
    front = split(text)
    offset = text.index(front.body) if front.body else len(text)
    return {f.label: (offset + f.start, offset + f.end, f.tex) for f in scan(front.body, first_line=front.body_line).formulas if f.label}


def write_mutant(root: Path, mutant: Mutant) -> None:
    key, label = mutant.equation.split("/", 1)
    note = root / "notes" / f"{key}.md"
    text = note.read_text(encoding="utf-8")
    start, end, tex = note_formulas(root, key)[label]
    block = text[start:end]
    note.write_text(text[:start] + block.replace(tex, mutant.after, 1) + text[end:], encoding="utf-8")
    rebind(root / "runnable_snippets" / f"{key}.py", mutant.equation, mutant.after)


def rebind(snippet: Path, equation: str, tex: str) -> None:
    """Set ``tex=`` of every ``@check(equation, tex=...)`` in the snippet to ``tex``."""
    source = snippet.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == equation:
            for keyword in node.keywords:
                if keyword.arg == "tex":
                    value = keyword.value
                    spans.append((offsets[value.lineno - 1] + value.col_offset, offsets[value.end_lineno - 1] + value.end_col_offset))
    for begin, finish in sorted(spans, reverse=True):
        source = source[:begin] + repr(tex) + source[finish:]
    snippet.write_text(source, encoding="utf-8")


def run_round(root: Path, mutants: list[Mutant], jobs: int) -> dict[str, bool]:
    """Apply the mutants (one per note), run their equations' checks; equation id -> caught."""
    for mutant in mutants:
        write_mutant(root, mutant)
    ids = [m.equation for m in mutants]
    subprocess.run([PAPERNOTES, "--root", str(root), "check", "-j", str(jobs), *ids], capture_output=True, text=True)
    results = json.loads((root / "build" / "checks" / "results.json").read_text(encoding="utf-8"))["results"]
    failed = {e for r in results if r["status"] not in ("passed", "skipped") for e in r["equations"]}
    return {m.equation: m.equation in failed for m in mutants}


def restore(root: Path, keys: set[str]) -> None:
    for key in keys:
        shutil.copy2(REPO / "notes" / f"{key}.md", root / "notes" / f"{key}.md")
        snippet = REPO / "runnable_snippets" / f"{key}.py"
        if snippet.exists():
            shutil.copy2(snippet, root / "runnable_snippets" / f"{key}.py")


# --- the benchmark ----------------------------------------------------------------------------

def how_checked(results_file: Path) -> dict[str, str]:
    """equation id -> 'evaluated' | 'bound', from the last recorded run of every check."""
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        sys.exit(f"{results_file} is missing: run `papernotes check` first, so the benchmark knows how each equation is checked")
    how: dict[str, str] = {}
    for result in results:
        for equation in result["equations"]:
            evaluated = result["status"] == "passed" and equation in result.get("evaluated", ())
            how[equation] = "evaluated" if evaluated or how.get(equation) == "evaluated" else "bound"
    return how


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", nargs="*", default=[], help="only these notes (default: all)")
    parser.add_argument("--evaluated-only", action="store_true", help="only equations evaluated from their formula")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--show", type=int, default=15, help="print this many surviving mutants")
    args = parser.parse_args()
    how = how_checked(REPO / "build" / "checks" / "results.json")
    by_note: dict[str, list[Mutant]] = collections.defaultdict(list)
    unmutable = []
    for equation in sorted(how):
        key, label = equation.split("/", 1)
        if (args.keys and key not in args.keys) or (args.evaluated_only and how[equation] != "evaluated"):
            continue
        tex = note_formulas(REPO, key).get(label, (0, 0, None))[2]
        mutant = mutant_of(equation, tex) if tex else None
        (by_note[key].append(mutant) if mutant else unmutable.append(equation))
    started = time.perf_counter()
    caught: dict[str, bool] = {}
    mutants = {m.equation: m for ms in by_note.values() for m in ms}
    with tempfile.TemporaryDirectory(prefix="papernotes-mutation-") as tmp:
        root = Path(tmp)
        for name in COPIED:
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
        rounds = max((len(ms) for ms in by_note.values()), default=0)
        for r in range(rounds):
            batch = [ms[r] for ms in by_note.values() if r < len(ms)]
            caught.update(run_round(root, batch, args.jobs))
            restore(root, {m.equation.split("/")[0] for m in batch})
            print(f"round {r + 1}/{rounds}: {sum(caught.values())}/{len(caught)} caught so far", file=sys.stderr, flush=True)
    report(caught, mutants, how, unmutable, time.perf_counter() - started, args.show)


def report(caught: dict[str, bool], mutants: dict[str, Mutant], how: dict[str, str], unmutable: list[str],
           seconds: float, show: int) -> None:
    print(f"\n{'equations checked by':<26} {'mutation':<10} {'caught':>7} {'total':>6} {'share':>7}")
    for check_kind in ("evaluated", "bound"):
        ids = [e for e in caught if how[e] == check_kind]
        for kind in (*KINDS, "all"):
            chosen = [e for e in ids if kind == "all" or mutants[e].kind == kind]
            if chosen:
                hits = sum(caught[e] for e in chosen)
                print(f"{check_kind:<26} {kind:<10} {hits:>7} {len(chosen):>6} {100 * hits / len(chosen):>6.0f}%")
    hits = sum(caught.values())
    print(f"{'all checked equations':<26} {'all':<10} {hits:>7} {len(caught):>6} {100 * hits / max(len(caught), 1):>6.0f}%")
    print(f"{len(unmutable)} equations had nothing to mutate (no sign, constant, function or index limit on the right-hand side)"
          f"; {seconds:.0f} s")
    survivors = [mutants[e] for e in caught if not caught[e]]
    for mutant in sorted(survivors, key=lambda m: (how[m.equation] != "evaluated", m.equation))[:show]:
        print(f"  survived ({how[mutant.equation]}, {mutant.kind}): {mutant.equation}: {mutant.after}")


if __name__ == "__main__":
    main()
