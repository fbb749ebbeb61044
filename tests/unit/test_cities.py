"""The city a position counts for (Jetsetter): one at a time and many at once agree."""

from geo.cities import cities_of, city_of
from geo.coords import LatLon

PLACES = [
    LatLon(40.758, -73.9855),  # Times Square
    LatLon(40.6413, -73.7781),  # JFK (Queens, within New York's tier)
    LatLon(48.8584, 2.2945),  # Paris
    LatLon(51.5007, -0.1246),  # London
    LatLon(-33.8568, 151.2153),  # Sydney
    LatLon(64.1466, -21.9426),  # Reykjavik (a small capital: a lower tier)
    LatLon(-54.8019, -68.303),  # Ushuaia (no tier: the nearest place)
    LatLon(0.0, -160.0),  # mid-Pacific
]


def test_many_at_once_is_one_at_a_time():
    assert cities_of(PLACES) == [city_of(place) for place in PLACES]


def test_the_same_city_for_two_ends_of_it():
    assert city_of(PLACES[0]) == city_of(PLACES[1])
    assert city_of(PLACES[2]) != city_of(PLACES[3])
