"""Operator commands say what happened and fail loudly (issue 17): make-admin is
idempotent, ids are checked, seed-demo says what it seeded and why."""

from sqlalchemy import func, select

from service.database import db
from service.models import AdminAction, User
from service.seed import demo


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
    assert everyone > len(demo.DEMO_USERS)
    assert f"demo users: {len(demo.DEMO_USERS)}" in result.output
    assert f"users: {everyone}" not in result.output
    assert f"no venue data at {tmp_path / demo.SPOTS}" in result.output
    assert "IRL_DATA_DIR" in result.output
