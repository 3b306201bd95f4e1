"""Read and validate a whole knowledge base: the first two stages of every command."""
from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Diagnostic, sorted_report
from .file_digests import FileDigests
from .formulas import Katex, check_formulas
from .knowledge_base import assemble
from .memo import ParseMemo
from .model import KnowledgeBase
from .project import Project
from .readers.bibliography import read_bibliography
from .readers.notes import read_notes
from .readers.taxonomy import read_taxonomy
from .validate import validate_notes


@dataclass(frozen=True)
class Loaded:
    """The knowledge base (None when any input has an error) and every problem found."""

    kb: KnowledgeBase | None
    problems: list[Diagnostic]


def load(project: Project, katex: Katex, only: frozenset[str] | None = None, memo: ParseMemo | None = None,
         files: FileDigests | None = None) -> Loaded:
    """Read and validate everything. With ``only`` (note keys), validate just those notes, still against
    the whole knowledge base (every key, the taxonomy, the bibliography), and assemble nothing: the
    fast path a contributor's editor or pre-commit hook takes. ``memo``: where the notes, the
    taxonomy and the bibliography parsed before are found (without one, everything is parsed); ``files``:
    the notes' digests a long-lived caller keeps (``serve``: an unchanged note is not even read)."""
    taxonomy, taxonomy_problems = read_taxonomy(project.taxonomy, project.display(project.taxonomy), memo)
    references, bib_problems = read_bibliography(project.bibliography, project.display(project.bibliography), memo)
    sources, read_problems = read_notes(project.notes, project.display(project.notes), memo, files)
    problems = taxonomy_problems + bib_problems + read_problems
    problems += validate_notes(sources, taxonomy, references, only, memo)
    selected = sources if only is None else [s for s in sources if s.key in only]
    problems += check_formulas(selected, katex)
    if only is not None:
        paths = {s.path for s in selected}
        note_folder = project.display(project.notes) + "/"
        problems = [p for p in problems if not p.path.startswith(note_folder) or p.path in paths]
    problems = sorted_report(problems)
    if only is not None or any(p.severity == "error" for p in problems):
        return Loaded(None, problems)
    return Loaded(assemble(sources, taxonomy, references), problems)
