"""A clean build's pages rendered by several mkdocs processes side by side.

mkdocs renders pages one after another in one process, and most of a clean build is that rendering
(Python-Markdown, the Pygments highlighting of the checks' code shown on each note, the theme's
templates), so on a machine with several cores the pages are split into shards of about the same
size, one process each (forked: the knowledge base and the rendered formulas are already in memory).

Every worker runs mkdocs' own dirty build (the mechanism ``incremental.py`` uses) over the whole docs
folder, into a site folder of its own in which the pages of the other shards stand as placeholders
newer than their Markdown: mkdocs renders only the worker's pages, with the same configuration,
navigation and set of pages as a single clean build, hence the same bytes (``test_incremental``
compares dirty-built pages with a clean build's). The worker then renders its pages' formulas.
The first worker's site becomes the site and the others' pages are moved into it.

mkdocs keeps every page it renders (its Markdown, HTML and table of contents) until its build ends, so
a worker's memory grows with its shard: a shard holds at most ``SHARD_PAGES`` pages, and there are as
many shards as that takes, rendered ``workers_for`` at a time. The forked workers share the parent's
objects, which the parent's garbage collector leaves alone meanwhile (``gc.freeze``: a collection
would write to every object's header, and the memory pages it touched would be copied into each
worker).

mkdocs checks the links among one worker's pages; the links from a page of one shard to an anchor of
a page of another are checked here, from the anchors every worker recorded, with mkdocs' message.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .diagnostics import Diagnostic
from .incremental import UNCHANGED_MTIME, Anchors, html_of

# Below this many pages the fixed cost of a worker (mkdocs' configuration, the theme's file list, the
# static files) outweighs what the split saves.
MIN_PAGES = 40
# The most pages one worker renders (the last build's memory was 2 workers x 1,500 pages at 3,000
# notes, about 540 MB each; more, smaller shards cost a second each for mkdocs' set-up).
SHARD_PAGES = 750
# A worker renders its shard: (docs, its site folder, its pages) -> (problems, anchors of its pages).
Worker = Callable[[Path, Path, Sequence[str]], tuple[list[Diagnostic], Anchors]]


def workers_for(pages: int, jobs: int | None) -> int:
    """How many processes render ``pages`` pages: ``jobs`` when given; by default the usable CPUs,
    or one when there are too few pages for a split to pay."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if jobs is not None:
        return max(1, min(jobs, pages))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if pages < MIN_PAGES else max(1, min(usable, pages // (MIN_PAGES // 2)))


def shard_count(pages: int, workers: int) -> int:
    """How many shards ``pages`` pages are split into for ``workers`` processes: one each, or more
    when a shard would hold more than ``SHARD_PAGES`` pages (a multiple of ``workers``, so that the
    last ones run side by side too)."""
    needed = max(workers, -(-pages // SHARD_PAGES))
    return -(-needed // workers) * workers


def split(sizes: Mapping[str, int], count: int) -> list[list[str]]:
    """The docs pages in ``count`` shards of about the same total size (largest first, each to the
    lightest shard), each shard sorted."""
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for page in sorted(sizes, key=lambda p: (-sizes[p], p)):
        lightest = loads.index(min(loads))
        shards[lightest].append(page)
        loads[lightest] += sizes[page]
    return [sorted(shard) for shard in shards]


def render(docs: Path, site: Path, shards: list[list[str]], worker: Worker,
           at_once: int | None = None) -> tuple[list[Diagnostic], Anchors]:
    """Render ``docs`` into ``site`` (which must not exist), ``shards[k]`` by worker k in its own
    process, ``at_once`` processes at a time (default: all); returns every problem (deduplicated: each
    worker reports the configuration's) and the anchors of all pages."""
    for file in docs.rglob("*"):
        if file.is_file():
            os.utime(file, (UNCHANGED_MTIME, UNCHANGED_MTIME))
    folders = [site.with_name(f"{site.name}.shard{k}") for k in range(len(shards))]
    every_page = [page for pages in shards for page in pages]
    for folder, shard in zip(folders, shards):
        mine = set(shard)
        for other in (page for page in every_page if page not in mine):
            placeholder = folder / html_of(other)
            placeholder.parent.mkdir(parents=True, exist_ok=True)
            placeholder.touch()
    context = multiprocessing.get_context("fork")
    at_once = len(shards) if at_once is None else max(1, at_once)
    outcomes: list[tuple[list[Diagnostic], Anchors]] = []
    # the workers share what the parent holds: no collection here copies it into them (unless a
    # caller, ``serve``, froze its own objects already: those stay frozen)
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.collect()
        gc.freeze()
    try:
        jobs = list(zip(folders, shards))
        for first in range(0, len(jobs), at_once):
            outcomes += _run_together(context, worker, docs, jobs[first:first + at_once])
    finally:
        if freezing:
            gc.unfreeze()
    problems: list[Diagnostic] = []
    anchors = Anchors({}, {})
    for shard_problems, shard_anchors in outcomes:
        problems += [p for p in shard_problems if p not in problems]
        anchors = anchors.updated(shard_anchors)
    if not problems:
        problems += crossing_links(anchors, shards)
    if problems:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        return problems, anchors
    folders[0].rename(site)
    for folder, shard in zip(folders[1:], shards[1:]):
        for page in shard:
            os.replace(folder / html_of(page), site / html_of(page))
        shutil.rmtree(folder, ignore_errors=True)
    return [], anchors


def _run_together(context, worker: Worker, docs: Path, jobs: list[tuple[Path, list[str]]]) -> list[tuple[list[Diagnostic], Anchors]]:
    """Each (site folder, shard) of ``jobs`` rendered by a worker process of its own, all at once."""
    channels, processes = [], []
    for folder, shard in jobs:
        receiving, sending = context.Pipe(duplex=False)
        # not daemonic: a worker may start processes of its own (formulas rendered in parallel)
        process = context.Process(target=_run, args=(worker, docs, folder, shard, sending))
        process.start()
        sending.close()
        channels.append(receiving)
        processes.append(process)
    outcomes = []
    for (_folder, shard), channel, process in zip(jobs, channels, processes):
        try:
            outcomes.append(channel.recv())
        except EOFError:  # the worker died without answering (killed, out of memory)
            outcomes.append(([Diagnostic("mkdocs", 0, f"the process rendering pages {shard[0]}... stopped without a result; "
                                                      "run the build again with --jobs 1")], Anchors({}, {})))
        process.join()
    return outcomes


def crossing_links(anchors: Anchors, shards: list[list[str]]) -> list[Diagnostic]:
    """mkdocs' warning for each link between pages of two shards to an anchor that is not there."""
    messages: list[str] = []
    for shard in shards:
        messages += [m for m in anchors.broken_between(frozenset(shard)) if m not in messages]
    return [Diagnostic("mkdocs", 0, message) for message in sorted(messages)]


def _run(worker: Worker, docs: Path, folder: Path, shard: Sequence[str], channel) -> None:
    try:
        outcome = worker(docs, folder, shard)
    except BaseException as exc:  # anything a worker raises is one problem of the build, not a crash
        outcome = ([Diagnostic("mkdocs", 0, f"rendering pages failed: {type(exc).__name__}: {exc}")], Anchors({}, {}))
    channel.send(outcome)
    channel.close()
