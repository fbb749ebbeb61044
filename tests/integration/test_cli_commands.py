"""Operator commands say what happened and fail loudly (issue 17): make-admin is
idempotent, ids are checked, seed-demo says what it seeded and why."""

from sqlalchemy import func, select

from service.database import db
from service.models import AdminAction, Checkin, User
from service.seed import demo, run


def _audited(app, action: str, target_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AdminAction)
            .where(AdminAction.action == action, AdminAction.target_id == target_id)
        )


def test_make_admin_twice_audits_once(app, runner, actions):
    person = actions.register()
    handle, user_id = person["user"]["handle"], person["user"]["id"]
    assert runner.invoke(args=["make-admin", handle]).exit_code == 0
    again = runner.invoke(args=["make-admin", handle])
    assert again.exit_code == 0 and "already an admin" in again.output
    assert _audited(app, "user.make_admin", user_id) == 1


def test_rebuild_footfall_of_an_unknown_venue_fails(runner):
    result = runner.invoke(args=["rebuild-footfall", "--venue", "999999"])
    assert result.exit_code != 0
    assert "no venue with id 999999" in result.output


def test_an_id_that_is_not_a_number_says_so(runner):
    for args in (["approve-claim", "abc"], ["reject-claim", "abc"], ["approve-claim", "0"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, result.output
        assert "is not a claim id: give its number" in result.output
        assert "integer range" not in result.output
    result = runner.invoke(args=["rebuild-footfall", "--venue", "x"])
    assert "is not a venue id" in result.output


def test_seed_demo_reports_demo_users_and_why_the_city_is_generated(
    app, runner, actions, monkeypatch, tmp_path
):
    actions.register()  # someone who is not a demo user
    monkeypatch.setenv("IRL_DATA_DIR", str(tmp_path))
    result = runner.invoke(args=["seed-demo", "--quiet"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        everyone = db.session.scalar(select(func.count(User.id)))
        accounts = run.demo_users().subquery()
        demo_users = db.session.scalar(select(func.count()).select_from(accounts))
        checkins = db.session.scalar(select(func.count()).select_from(Checkin))
    assert everyone == demo_users + 1 > len(demo.DEMO_USERS)
    assert f"demo users: {demo_users} (" in result.output
    assert f"users: {everyone}" not in result.output
    assert f"no venue data at {tmp_path / demo.SPOTS}" in result.output
    assert "IRL_DATA_DIR" in result.output
    # without the data, a generated history of the same shape stands in
    assert f"history: {checkins} check-ins" in result.output and "from generated" in result.output


def test_recompute_rewards_one_by_one_gives_what_the_default_gives(app, runner, actions):
    """The reference path stays reachable; both leave the same points."""
    people = [actions.register() for _ in range(2)]
    venue = actions.venue(people[0], 40.75, -73.99)
    for person in people:
        actions.check_in(person, venue)

    def points() -> list[int]:
        with app.app_context():
            return [db.session.get(User, p["user"]["id"]).points for p in people]

    before = points()
    assert runner.invoke(args=["recompute-rewards", "--quiet"]).exit_code == 0
    assert points() == before
    result = runner.invoke(args=["recompute-rewards", "--quiet", "--one-by-one"])
    assert result.exit_code == 0, result.output
    assert points() == before and before[0] > 0


def test_the_push_worker_never_prints_credentials_of_its_gateway_url():
    from service.cli import _origin

    url = "https://user:s3cret@gorush.example:8443/api?token=t0k"
    assert _origin(url) == "https://gorush.example:8443"
    assert _origin("http://ntfy.example/") == "http://ntfy.example"
