"""Material's templates as a folder that lists quickly: every file linked, the icon set linked whole.

mkdocs lists every file of the theme's folders on each build to find the static files it copies
(``Files.add_files_from_theme``), and Material's templates hold 14,000 icons (``.icons/``), which
it then filters out by name: 0.15 s of every build, a sixth of an edit's. A mirror of the folder, made
once per Material version under ``build/cache``, holds the same files as symbolic links, except
``.icons``, which is one link to the original folder: Jinja's loader still opens any icon through
it, but its listing (``os.walk``, which does not follow links to folders) skips it, as mkdocs'
filter would have. The static files found and the pages rendered are the same.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from .content_cache import digest

UNLISTED = frozenset({".icons"})  # linked whole: mkdocs' theme listing leaves out every dot-folder anyway


def mirrored(templates: Path, cache: Path, version: str) -> Path:
    """The mirror of ``templates`` (made now if there is none for ``version``)."""
    mirror = cache / "theme" / digest(str(templates.resolve()), version)[:16]
    if mirror.is_dir():
        return mirror
    staging = mirror.with_name(f".{mirror.name}.{uuid.uuid4().hex[:8]}")
    try:
        for folder, folders, files in os.walk(templates):
            relative = Path(folder).relative_to(templates)
            (staging / relative).mkdir(parents=True, exist_ok=True)
            linked = [f for f in folders if relative == Path(".") and f in UNLISTED]
            for name in linked:
                os.symlink(Path(folder, name).resolve(), staging / relative / name, target_is_directory=True)
            folders[:] = [f for f in folders if f not in linked and f != "__pycache__"]
            for name in files:
                os.symlink(Path(folder, name).resolve(), staging / relative / name)
    except OSError:  # no symbolic links here: nothing half-made is left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        staging.rename(mirror)
    except OSError:  # another build made it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return mirror
