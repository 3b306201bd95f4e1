"""The build cache: values found by the hash of their inputs; a corrupt store is a miss, never an error."""
from generator.content_cache import ContentCache, digest
from generator.formulas import Katex


def test_a_value_is_found_by_its_key_in_a_later_process(tmp_path):
    ContentCache(tmp_path / "c.sqlite").put_many({digest("a", "b"): "value"})
    assert ContentCache(tmp_path / "c.sqlite").get_many([digest("a", "b"), digest("ab")]) == {digest("a", "b"): "value"}


def test_parts_never_run_together():
    assert digest("ab", "c") != digest("a", "bc")


def test_a_corrupt_store_is_a_miss_and_writing_to_it_is_harmless(tmp_path):
    store = tmp_path / "c.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    cache = ContentCache(store)
    assert cache.get_many(["x"]) == {}
    cache.put_many({"x": "y"})


def test_formulas_and_errors_come_back_from_the_store(tmp_path):
    first = Katex(store=ContentCache(tmp_path / "c.sqlite"), version="v1")
    assert set(first.render_all({("x^2", False), (r"\frac{", True)})) == {(r"\frac{", True)}
    again = Katex(store=ContentCache(tmp_path / "c.sqlite"), version="v1")
    assert again._from_store([("x^2", False), (r"\frac{", True), ("y", False)]) == [("y", False)]
    assert again.render("x^2", False) == first.render("x^2", False)
    other_version = Katex(store=ContentCache(tmp_path / "c.sqlite"), version="v2")
    assert other_version._from_store([("x^2", False)]) == [("x^2", False)]
