"""Material's templates mirrored so that mkdocs' listing of the theme skips the icons: the same
static files are found, every template and icon still loads, and a build is what it was."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import jinja2
import material
from mkdocs.structure.files import Files

from generator.theme_mirror import mirrored

TEMPLATES = Path(material.__file__).parent / "templates"


def listed(folder: Path, tmp_path: Path) -> list[str]:
    """The files mkdocs copies from a theme folder (``add_files_from_theme``'s listing and filter)."""
    from mkdocs.config import load_config

    (tmp_path / "docs").mkdir(exist_ok=True)
    config = load_config(config_file=None, docs_dir=str(tmp_path / "docs"), site_dir=str(tmp_path / "site"))
    files = Files([])
    files.add_files_from_theme(jinja2.Environment(loader=jinja2.FileSystemLoader([str(folder)])), config)
    return sorted(f.src_uri for f in files)


def test_the_mirror_lists_the_same_static_files_and_not_the_icons(tmp_path):
    mirror = mirrored(TEMPLATES, tmp_path, metadata.version("mkdocs-material"))
    assert listed(mirror, tmp_path) == listed(TEMPLATES, tmp_path) and "assets/javascripts/bundle" in " ".join(listed(mirror, tmp_path))
    assert len(jinja2.FileSystemLoader(str(mirror)).list_templates()) < 1_000 < len(jinja2.FileSystemLoader(str(TEMPLATES)).list_templates())


def test_every_template_and_icon_loads_through_the_mirror(tmp_path):
    mirror = mirrored(TEMPLATES, tmp_path, "v")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(mirror)))
    icon = ".icons/material/magnify.svg"
    assert env.loader.get_source(env, icon)[0] == (TEMPLATES / icon).read_text(encoding="utf-8")
    assert env.loader.get_source(env, "partials/header.html")[0] == (TEMPLATES / "partials/header.html").read_text(encoding="utf-8")


def test_a_mirror_is_made_once_per_version(tmp_path):
    first = mirrored(TEMPLATES, tmp_path, "v1")
    assert mirrored(TEMPLATES, tmp_path, "v1") == first != mirrored(TEMPLATES, tmp_path, "v2")
    assert [p.name for p in (tmp_path / "theme").iterdir() if p.name.startswith(".")] == []  # no staging left
