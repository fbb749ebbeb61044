"""Guess a venue's category from its name, using Gowalla's own category names.

Gowalla's spot dump has names but no categories. Each leaf of Gowalla's category tree
(``gowalla_category_structure.json``) contributes its own words as keywords, and a few
common words that name no category (``starbucks``, ``cafe``, ``deli``) are added. The
longest keyword (or phrase) found in the name wins; nothing found means "Other".
"""

import itertools
import json
import re
from functools import lru_cache
from pathlib import Path

OTHER = "Other"

# Words in venue names that are not the words of any Gowalla category name.
SYNONYMS = {
    "starbucks": "Coffee Shop",
    "cafe": "Coffee Shop",
    "café": "Coffee Shop",
    "espresso": "Coffee Shop",
    "dunkin": "Doughnuts",
    "deli": "Sandwich Shop",
    "bagel": "Bakery",
    "pizzeria": "Pizza",
    "burger": "Burgers",
    "sushi": "Sushi",
    "taqueria": "Mexican",
    "trattoria": "Italian",
    "ristorante": "Italian",
    "restaurant": "American",
    "grill": "American",
    "kitchen": "American",
    "tavern": "Pub",
    "lounge": "Bar",
    "brewery": "Microbrewery",
    "club": "Dancefloor",
    "terminal": "Airport",
    "jfk": "Airport",
    "laguardia": "Airport",
    "lga": "Airport",
    "station": "Train Station",
    "subway": "Subway",
    "penn": "Train Station",
    "path": "Train Station",
    "pier": "Ferry",
    "stadium": "Stadium",
    "arena": "Arena",
    "garden": "Garden",
    "square": "Plaza/Square",
    "plaza": "Plaza/Square",
    "university": "University",
    "college": "College",
    "nyu": "University",
    "columbia": "University",
    "hospital": "Hospital",
    "inn": "Hotel",
    "hostel": "Hostel",
    "theater": "Theatre",
    "cinema": "Movie Theatre",
    "gallery": "Gallery",
    "apple": "Technology",
    "hotel": "Hotel",
    "school": "School",
    "post office": "Post Office",
    "apartment": "Apartment",
    "apartments": "Apartment",
    "church": "Church",
    "cathedral": "Church",
    "market": "Grocery",
    "supermarket": "Grocery",
    "pharmacy": "Drugstore & Pharmacy",
    "duane": "Drugstore & Pharmacy",
    "cvs": "Drugstore & Pharmacy",
    "gym": "Gym",
    "fitness": "Health & Fitness",
    "yoga": "Health & Fitness",
    "salon": "Salon & Barbershop",
    "barber": "Salon & Barbershop",
    "bank": "Bank & Financial",
    "library": "Library",
    "museum": "Museum",
    "zoo": "Zoo",
    "beach": "Beach",
    "bridge": "Bridge",
    "park": "Park",
}
STOPWORDS = {
    "other",
    "and",
    "the",
    "shop",
    "store",
    "center",
    "house",
    "spot",
    "food",
    "modern",
    "local",
    "city",
    "hall",
    "south",
    "middle",
    "american",
    "asian",
    "art",
    "room",
    "bed",
    "sports",
    "ice",
    "medical",
    "antique",
    "fire",
    "great",
    "traditional",
    "contemporary",
    "historic",
    "regional",
    "state",
    "national",
    "light",
    "soul",
    "street",
    "fine",
    "hot",
    "luxury",
    "non",
    "profit",
    "trade",
    "tech",
    "children",
    "men",
    "women",
    "pan",
    "pacific",
    "goods",
    "paper",
    "discount",
    "rental",
    "travel",
    "movie",
    "live",
    "performing",
    "chips",
    "fish",
    "snow",
    "cones",
    "dog",
    "scenic",
    "lake",
    "river",
    "office",
    "home",
    "health",
}
WORD = re.compile(r"[a-zà-ÿ]+")


def _leaves(node: dict) -> list[str]:
    children = node.get("spot_categories") or []
    if not children:
        return [node["name"].strip()]
    return [leaf for child in children for leaf in _leaves(child)]


@lru_cache(maxsize=4)
def keyword_table(structure_path: str | None) -> dict[str, str]:
    """Map keyword → category name, from the Gowalla tree when present plus synonyms."""
    table: dict[str, str] = {}
    if structure_path and Path(structure_path).exists():
        tree = json.loads(Path(structure_path).read_text())
        for leaf in _leaves(tree):
            if leaf.lower().startswith("other") or "- other" in leaf.lower():
                continue
            words = WORD.findall(leaf.lower())
            table.setdefault(" ".join(words), leaf)
            for word in words:
                if len(word) > 2 and word not in STOPWORDS:
                    table.setdefault(word, leaf)
    table.update(SYNONYMS)
    return table


def guess(name: str, table: dict[str, str]) -> str:
    """The category of the longest keyword (a word, a plural, or a two-word phrase)."""
    words = WORD.findall(name.lower())
    candidates = [
        *words,
        *(w[:-1] for w in words if w.endswith("s")),
        *(f"{a} {b}" for a, b in itertools.pairwise(words)),
    ]
    best = max((c for c in candidates if c in table), key=len, default=None)
    return table[best] if best else OTHER
