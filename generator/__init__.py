"""papernotes: Markdown paper notes + taxonomy + BibTeX -> a validated, offline mkdocs-material site.

The build is a pipeline of small stages over frozen dataclasses:

    read (readers/) -> validate (validate.py) -> enrich (knowledge_base.py)
    -> render (render/) -> write + mkdocs build + math (build.py)

The core (readers, model, validation, knowledge base) imports neither mkdocs nor jinja2 nor torch.
"""
