"""Everything a built site is made from, as one digest: when a build's inputs hash to the digest the
published site was built from, the site is already what a clean build would write."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .diagnostics import Diagnostic
from .file_digests import FileDigests
from .fingerprint import generator_fingerprint
from .project import Project

RECORD = "inputs.json"  # next to the built site (never inside it): the digest and the build's warnings
PENDING = "inputs.pending.json"  # the same, for a build whose search bundles are not yet up to date


def inputs_digest(project: Project, site_url: str | None, fingerprint: str | None = None,
                  files_seen: FileDigests | None = None) -> str:
    """The generator, the renderers' versions, the site address, and the bytes of every file a build
    reads: notes, taxonomy, bibliography, mkdocs.yml, snippets, check results (KaTeX's assets are the
    generator's own). ``files_seen``: the files' digests a long-lived caller kept from its last build."""
    digest = hashlib.sha256(f"{fingerprint or generator_fingerprint()}\0{site_url or ''}\0".encode())
    files = [project.taxonomy, project.bibliography, project.mkdocs_config, project.check_results]
    files += sorted(project.notes.rglob("*.md"), key=str) + sorted(project.snippets.glob("*.py"), key=str)
    files_seen = files_seen or FileDigests()
    for file in files:
        digest.update(project.display(file).encode() + b"\0" + files_seen.digest(file))
    return digest.hexdigest()


def published_warnings(project: Project, digest: str) -> list[Diagnostic] | None:
    """The warnings of the published build when it was built from ``digest``; None when it was not
    (or there is no published build): then the site must be built."""
    if not project.site.is_symlink() or not project.site.resolve().is_dir():
        return None
    try:
        record = json.loads((project.site.resolve().parent / RECORD).read_text(encoding="utf-8"))
        if record["digest"] != digest:
            return None
        return [Diagnostic(w["path"], w["line"], w["message"], w["severity"]) for w in record["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_inputs(build_folder: Path, digest: str, warnings: list[Diagnostic], name: str = RECORD) -> None:
    payload = {"digest": digest, "warnings": [{"path": w.path, "line": w.line, "message": w.message, "severity": w.severity}
                                              for w in warnings]}
    (build_folder / name).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
