"""Real check-ins replayed through the service agree with an independent SQL oracle."""

import pytest

from tests import replay_foursquare
from tests.conftest import TEST_DATABASE_URL
from tests.databases import sibling_database
from tests.live import required

pytestmark = pytest.mark.slow

# rebuilt each run: named after the test database (irl_test → irl_test_replay)
REPLAY_URL = sibling_database(TEST_DATABASE_URL, "_replay")


def test_the_replay_database_is_named_after_the_test_database():
    assert REPLAY_URL.rsplit("/", 1)[1] == TEST_DATABASE_URL.rsplit("/", 1)[1] + "_replay"


@required(
    (replay_foursquare.data_dir() / "foursquare_nyc").exists(),
    f"shared Foursquare data not present in {replay_foursquare.data_dir()}",
)
def test_meetings_on_real_checkins_match_the_oracle():
    figures = replay_foursquare.run(REPLAY_URL, limit=1000)
    assert figures["stored"] == 1000
    assert figures["service_pairs"] > 0
    assert figures["only_service"] == [] and figures["only_oracle"] == []
