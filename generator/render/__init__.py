"""Render: knowledge base -> Markdown/HTML pages (a dict of docs path -> text) for mkdocs to build."""
