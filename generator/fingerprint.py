"""What every build cache key starts with: this generator's own code and the versions of the
packages that turn its pages into HTML. Any change to either makes every cached artefact a miss."""
from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).parent
# the packages whose output a cached artefact holds (rendered math, highlighted code, built pages)
RENDERERS = ("pykatex", "mkdocs", "mkdocs-material", "pymdown-extensions", "markdown", "pygments", "jinja2",
             "plotly", "bibtexparser", "pylatexenc", "pyyaml", "pagefind")


def generator_fingerprint(package: Path = PACKAGE) -> str:
    """A digest of every file of the ``generator`` package (code, templates, assets) and the
    renderers' versions (read from the installed metadata: nothing is imported)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(file.relative_to(package).as_posix().encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    for package in RENDERERS:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}={version}\0".encode())
    return digest.hexdigest()[:16]
