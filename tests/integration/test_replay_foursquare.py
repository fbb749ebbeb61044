"""Real check-ins replayed through the service agree with an independent SQL oracle."""

import os

import pytest

from bench import replay_foursquare

REPLAY_URL = os.environ.get(
    "TEST_REPLAY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/irl_test_replay"
)


@pytest.mark.skipif(
    not (replay_foursquare.data_dir() / "foursquare_nyc").exists(),
    reason="shared Foursquare data not present",
)
def test_meetings_on_real_checkins_match_the_oracle():
    figures = replay_foursquare.run(REPLAY_URL, limit=1000)
    assert figures["stored"] == 1000
    assert figures["service_pairs"] > 0
    assert figures["only_service"] == [] and figures["only_oracle"] == []
