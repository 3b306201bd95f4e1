"""``papernotes serve``: build, serve ``site/`` on localhost, rebuild when an input changes."""
from __future__ import annotations

from typing import Callable

from .formulas import cached_katex
from .project import Project
from .site_build import build


def serve(project: Project, host: str, port: int, report: Callable) -> int:
    from mkdocs.livereload import LiveReloadServer

    katex = cached_katex(project.cache)  # keeps rendered formulas across rebuilds
    address = f"http://{host}:{port}/"  # the sitemap lists pages under it, for instant navigation
    if report(build(project, katex, address)):
        return 1

    def rebuild() -> None:
        report(build(project, katex, address))  # on error the last good site keeps being served

    server = LiveReloadServer(builder=rebuild, host=host, port=port, root=str(project.site))
    for path in project.inputs():
        server.watch(str(path))
    print(f"serving http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
