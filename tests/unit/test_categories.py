"""Category guesses for seeded venue names."""

import pytest

from service.seed.categories import OTHER, guess, keyword_table

TREE = {
    "spot_categories": [
        {
            "name": "Food",
            "spot_categories": [{"name": "Coffee Shop"}, {"name": "Pizza"}, {"name": "Ice Cream"}],
        },
        {"name": "Travel", "spot_categories": [{"name": "Airport"}, {"name": "Train Station"}]},
        {"name": "Community", "spot_categories": [{"name": "Fire Station"}]},
    ]
}


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "tree.json"
    import json

    path.write_text(json.dumps(TREE))
    return keyword_table(str(path))


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Starbucks", "Coffee Shop"),
        ("Joe's Pizza", "Pizza"),
        ("JFK Terminal 4", "Airport"),
        ("Perth Amboy Fire Station", "Fire Station"),
        ("Penn Station", "Train Station"),
        ("Carvel Ice Cream", "Ice Cream"),
        ("Seabra's Armory", OTHER),
    ],
)
def test_guess(table, name, category):
    assert guess(name, table) == category


def test_without_tree_uses_synonyms_only(tmp_path):
    table = keyword_table(str(tmp_path / "missing.json"))
    assert guess("Cafe Luna", table) == "Coffee Shop"
