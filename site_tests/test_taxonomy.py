from conftest import REPO

from generator.readers.taxonomy import read_taxonomy


def test_the_repository_taxonomy_has_the_21_seed_categories_plus_recsys():
    taxonomy, problems = read_taxonomy(REPO / "taxonomy.yml")
    assert problems == []
    slugs = [c.slug for c in taxonomy.categories]
    assert len(slugs) == 22
    for slug in ("safety", "transformers", "recsys", "interpretability", "optimization", "vision", "nlp", "llm"):
        assert slug in slugs
    assert all(c.description and c.title for c in taxonomy.categories)


def test_aliases_resolve_to_their_category(tmp_path):
    path = tmp_path / "taxonomy.yml"
    path.write_text("categories:\n  - slug: vision\n    title: Vision\n    description: Images.\n    aliases: [cv]\n", encoding="utf-8")
    taxonomy, problems = read_taxonomy(path)
    assert problems == []
    assert taxonomy.resolve("CV").slug == "vision"
    assert taxonomy.resolve("nlp") is None


def test_duplicate_slugs_bad_slugs_and_missing_fields(tmp_path):
    path = tmp_path / "taxonomy.yml"
    path.write_text(
        "categories:\n"
        "  - slug: vision\n    title: Vision\n    description: Images.\n    aliases: [cv]\n"
        "  - slug: cv\n    title: Again\n    description: Clash.\n"
        "  - slug: Bad Slug\n    title: Bad\n    description: Spaces.\n"
        "  - slug: nodesc\n    title: No description\n",
        encoding="utf-8")
    _, problems = read_taxonomy(path)
    assert [str(p) for p in problems] == [
        "taxonomy.yml:6: 'cv' is already used by the category at line 2; slugs and aliases must be unique",
        "taxonomy.yml:9: 'Bad Slug' is not a valid slug: use lowercase letters, digits and hyphens",
        "taxonomy.yml:12: category is missing 'description'",
    ]
