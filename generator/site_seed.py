"""The published site copied as hard links into the next build's folder, by a child process that
runs while the build reads and renders its Markdown.

An incremental build starts from the published site: every file it does not rebuild is a hard link
to the published one (``incremental.py``). At 3,000 notes that is 3,000 folders and 6,500 links,
system calls that a build waited for after it had planned. The links do not depend on the plan,
only on the published site, so they are made as soon as a build starts, by this file run as a
script (it imports nothing of the generator: it starts in milliseconds), while the build computes
what changed; the build then removes the few files it rebuilds (``incremental.trim_seed``).

Files that mkdocs writes over in place (``rewritten``: the sitemap, the 404 page, the search
manifest) are copied, not linked, so that the published build is never written through a link.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Callable


class Seeding:
    """A copy of ``source`` (a published site) being made in ``target``; ``wait`` says whether it
    was made whole."""

    def __init__(self, source: Path, target: Path, rewritten: frozenset[str]) -> None:
        self.source, self.target = source, target
        self._child = subprocess.Popen([sys.executable, "-I", __file__, str(source), str(target), *sorted(rewritten)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(self) -> bool:
        return self._child.wait() == 0

    def discard(self, folder: Path | None = None) -> None:
        """Stop it and delete ``folder`` (the copy, or a folder holding it): moved out of the way at
        once, deleted in the background (nothing waits for the deletion)."""
        self._child.kill()
        self._child.wait()
        folder = folder or self.target
        aside = folder.with_name(f".discarded-{uuid.uuid4().hex[:8]}")
        try:
            folder.rename(aside)
        except OSError:  # the child made nothing
            return
        threading.Thread(target=shutil.rmtree, args=(aside,), kwargs={"ignore_errors": True}, daemon=True).start()


def link_tree(source: str, target: str, rewritten: frozenset[str], left_out: Callable[[str], bool] | None = None) -> None:
    """Every file of ``source`` in ``target`` (which must not exist) as a hard link, ``rewritten``
    copied, those ``left_out`` says of (by their path relative to ``source``) not at all."""
    for folder, _, files in os.walk(source):
        relative_folder = os.path.relpath(folder, source)
        os.makedirs(target if relative_folder == "." else os.path.join(target, relative_folder))
        for name in files:
            relative = name if relative_folder == "." else f"{relative_folder}/{name}"
            if left_out is not None and left_out(relative):
                continue
            if relative in rewritten:
                shutil.copy2(os.path.join(folder, name), os.path.join(target, relative))
            else:
                os.link(os.path.join(folder, name), os.path.join(target, relative))


if __name__ == "__main__":
    link_tree(sys.argv[1], sys.argv[2], frozenset(sys.argv[3:]))
