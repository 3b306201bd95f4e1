"""Build-time scaling benchmark: papernotes vs a plain mkdocs-material build of the same notes.

For each corpus size it writes a synthetic knowledge base (notes with prose, inline and display
math, citations between notes; the repository's taxonomy), then runs, each in its own process:

  papernotes  `papernotes build` (navigation lists categories and index pages only)
  baseline    `mkdocs build` of the same note Markdown with one nav entry per note (the naive layout)

and prints wall time, peak memory (max RSS of the process) and site size, side by side.

    python benchmarks/build_scale.py                 # 1,000 and 3,000 notes
    python benchmarks/build_scale.py --sizes 200     # a quick run
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORDS = ("gradient attention embedding ranking loss batch token layer encoder decoder sparse dense "
         "variance bias prior posterior policy reward feature kernel margin softmax logit").split()


# Prose for notes in other languages (languages=("en", "zh", "ru")): every k-th note is written in one.
PROSE = {
    "en": (WORDS, " "),
    "zh": (tuple("梯度 注意力 嵌入 排序 损失 批量 词元 层 编码器 解码器 稀疏 稠密 方差 偏置 先验 后验 策略 奖励 特征 核 间隔 归一化 卷积 推荐".split()), ""),
    "ru": (tuple("градиент внимание эмбеддинга ранжирования потерь батча токенов слоя кодировщик декодера разреженных "
                 "плотных дисперсии смещения априорное апостериорного политики награды признаков ядра отступа".split()), " "),
}


def synthetic_corpus(root: Path, n: int, seed: int = 0, languages: tuple[str, ...] = ("en",)) -> None:
    rng = random.Random(seed)
    (root / "notes").mkdir(parents=True)
    shutil.copy2(REPO / "taxonomy.yml", root / "taxonomy.yml")
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    slugs = [line.split(":", 1)[1].strip() for line in (REPO / "taxonomy.yml").read_text().splitlines()
             if line.strip().startswith("- slug:")]
    keys = [f"author{i}{2000 + i % 25}{rng.choice(WORDS)}" for i in range(n)]
    bib = []
    for i, key in enumerate(keys):
        bib.append(f"@article{{{key},\n  title = {{On the {rng.choice(WORDS)} of {rng.choice(WORDS)} number {i}}},\n"
                   f"  author = {{Author{i}, Ann and Coauthor, Bo}},\n  journal = {{Journal of Synthetic Results}},\n"
                   f"  year = {{{2000 + i % 25}}},\n  eprint = {{{2000 + i % 25}.{i:05d}}}\n}}\n")
        cited = rng.sample(keys, 3)
        lang = languages[i % len(languages)]
        words, space = PROSE[lang]
        prose = space.join(rng.choice(words) for _ in range(250))
        body = (f"## Idea\n\n{prose} The rate $\\eta_{{{i}}} = \\eta_0 / \\sqrt{{t + {i}}}$ follows [@{cited[0]}].\n\n"
                f"$$\n\\mathcal{{L}}_{{{i}}} = -\\sum_{{j=1}}^{{{i % 50 + 2}}} y_j \\log \\hat y_j\n$$ {{#eq:loss}}\n\n"
                f"## Results\n\n{prose[:600]} See also [@{cited[1]}; @{cited[2]}].\n")
        tags = ", ".join(rng.sample(slugs, 2))
        (root / "notes" / f"{key}.md").write_text(
            f"---\ntags: [{tags}]\ntldr: Note {i} says something about {rng.choice(WORDS)}.\nlang: {lang}\n---\n{body}",
            encoding="utf-8")
    (root / "references.bib").write_text("\n".join(bib), encoding="utf-8")


def naive_mkdocs_project(corpus: Path, root: Path) -> None:
    """The same note Markdown as plain mkdocs pages, every note in the nav."""
    docs = root / "docs" / "notes"
    docs.mkdir(parents=True)
    nav = []
    for note in sorted((corpus / "notes").glob("*.md")):
        (docs / note.name).write_text(note.read_text(encoding="utf-8"), encoding="utf-8")
        nav.append(f"  - {note.stem}: notes/{note.name}")
    (root / "docs" / "index.md").write_text("# Notes\n", encoding="utf-8")
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8").replace("docs_dir: build/docs", "docs_dir: docs")
    config = config.split("not_in_nav:")[0]  # every note is in the nav here
    (root / "mkdocs.yml").write_text(config + "\nnav:\n  - Home: index.md\n" + "\n".join(nav) + "\n", encoding="utf-8")


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def size_mb(path: Path) -> float:
    path = path.resolve()
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--no-baseline", action="store_true", help="only time papernotes")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    print(f"{'notes':>6} {'build':<11} {'wall s':>8} {'peak MB':>8} {'site MB':>8} {'per page KB':>11}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            synthetic_corpus(corpus, n)
            wall, peak = run([str(bindir / "papernotes"), "build"], corpus)
            site = size_mb(corpus / "site")
            pages = len(list((corpus / "site").resolve().rglob("*.html")))
            print(f"{n:>6} {'papernotes':<11} {wall:>8.1f} {peak:>8.0f} {site:>8.1f} {site * 1000 / pages:>11.1f}", flush=True)
            if args.no_baseline:
                continue
            naive = Path(tmp) / "naive"
            naive_mkdocs_project(corpus, naive)
            wall_b, peak_b = run([str(bindir / "mkdocs"), "build", "--quiet"], naive)
            site_b = size_mb(naive / "site")
            pages_b = len(list((naive / "site").rglob("*.html")))
            print(f"{n:>6} {'baseline':<11} {wall_b:>8.1f} {peak_b:>8.0f} {site_b:>8.1f} {site_b * 1000 / pages_b:>11.1f}", flush=True)
            print(f"{n:>6} {'ratio':<11} {wall_b / wall:>7.1f}x {'':>8} {site_b / site:>7.1f}x", flush=True)


if __name__ == "__main__":
    main()
