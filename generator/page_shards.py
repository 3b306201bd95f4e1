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

mkdocs checks the links among one worker's pages; the links from a page of one shard to an anchor of
a page of another are checked here, from the anchors every worker recorded, with mkdocs' message.
"""
from __future__ import annotations

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


def render(docs: Path, site: Path, shards: list[list[str]], worker: Worker) -> tuple[list[Diagnostic], Anchors]:
    """Render ``docs`` into ``site`` (which must not exist), ``shards[k]`` by worker k in its own
    process; returns every problem (deduplicated: each worker reports the configuration's) and the
    anchors of all pages."""
    for file in docs.rglob("*"):
        if file.is_file():
            os.utime(file, (UNCHANGED_MTIME, UNCHANGED_MTIME))
    folders = [site.with_name(f"{site.name}.shard{k}") for k in range(len(shards))]
    for folder, shard in zip(folders, shards):
        mine = set(shard)
        for other in (page for pages in shards for page in pages if page not in mine):
            placeholder = folder / html_of(other)
            placeholder.parent.mkdir(parents=True, exist_ok=True)
            placeholder.touch()
    context = multiprocessing.get_context("fork")
    channels, processes = [], []
    for folder, shard in zip(folders, shards):
        receiving, sending = context.Pipe(duplex=False)
        # not daemonic: a worker may start processes of its own (formulas rendered in parallel)
        process = context.Process(target=_run, args=(worker, docs, folder, shard, sending))
        process.start()
        sending.close()
        channels.append(receiving)
        processes.append(process)
    problems: list[Diagnostic] = []
    anchors = Anchors({}, {})
    for k, (channel, process) in enumerate(zip(channels, processes)):
        try:
            shard_problems, shard_anchors = channel.recv()
        except EOFError:  # the worker died without answering (killed, out of memory)
            shard_problems, shard_anchors = [Diagnostic("mkdocs", 0, f"the process rendering pages {shards[k][0]}... stopped "
                                                                     "without a result; run the build again with --jobs 1")], Anchors({}, {})
        process.join()
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
