"""Check results: plain records, saved as JSON for ``papernotes build`` to show on the site."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..content_cache import digest
from ..file_digests import FileDigests

if TYPE_CHECKING:
    from ..memo import ParseMemo

STATUSES = ("passed", "failed", "skipped", "error", "timeout")


@dataclass(frozen=True)
class CheckResult:
    check: str  # note-key::function
    file: str
    line: int  # where it failed, else the function's first line
    equations: tuple[str, ...]
    status: str  # one of STATUSES
    device: str
    torch: str
    seconds: float
    max_error: float | None
    tolerance: float | None
    snippet_hash: str
    date: str
    message: str = ""
    evaluated: tuple[str, ...] = ()  # equation ids whose LaTeX this run evaluated and compared (evidence)
    cached: bool = False
    figures: dict = dataclasses.field(default_factory=dict, compare=False)  # name -> plotly figure
    # a digest of the record this result was read from (``parse_results``): stands for the whole
    # result, figures included, where a page's memo key needs it; empty for a result made in code
    source: str = dataclasses.field(default="", compare=False, repr=False)

    @property
    def identity(self) -> str:
        """All of this result, as a string: its record's digest when it was read from one."""
        return self.source or repr((self, self.figures))

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "skipped")

    def to_json(self) -> dict:
        record = dataclasses.asdict(self)
        del record["source"]
        return record

    @classmethod
    def from_json(cls, data: dict) -> "CheckResult":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["equations"] = tuple(values.get("equations", ()))
        values["evaluated"] = tuple(values.get("evaluated", ()))
        return cls(**values)


def load_results(path: Path, memo: "ParseMemo | None" = None, files: "FileDigests | None" = None) -> dict[str, CheckResult]:
    """Results by check id; a missing or corrupt file is simply no results. ``memo``: where the same
    bytes were read before (``serve`` rebuilds on every edit; the file changes only with a check run);
    ``files``: the digests a long-lived caller keeps, with which an unchanged file is not even read
    (it holds every result with its figures: 68 MB at 3,000 notes)."""
    if memo is None:
        try:
            return dict(parse_results(path.read_bytes()))
        except OSError:
            return {}
    parsed = memo.file_values("check results", {path: (path,)}, files or FileDigests(),
                              lambda _, contents: {} if contents[0] is None else parse_results(contents[0]))
    return dict(parsed[path])


def parse_results(data: bytes) -> dict[str, CheckResult]:
    try:
        payload = json.loads(data.decode("utf-8"))
        return {r["check"]: dataclasses.replace(CheckResult.from_json(r), source=digest(json.dumps(r, sort_keys=True)))
                for r in payload.get("results", [])}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def save_results(path: Path, results: dict[str, CheckResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"results": [r.to_json() for _, r in sorted(results.items())]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)
