"""Register, list and remove push devices."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import Device, DeviceToken

MAX_DEVICES = 10


def view(device: Device) -> dict:
    """A device as the API shows it."""
    return {
        "id": device.id,
        "platform": device.platform,
        "token": device.token,
        "created_at": device.created_at,
    }


def register(
    *, db_session: Session, user_id: int, platform: str, token: str, now: datetime
) -> tuple[dict, bool]:
    """Register ``token`` for me; ``(device, new)``. A token is one device: registering it
    again moves it to me (the phone changed hands). Beyond ``MAX_DEVICES`` my oldest go."""
    owner = _hold_token(db_session, user_id, token)
    row = {"user_id": user_id, "token": token, "platform": platform, "created_at": now}
    if owner is not None:
        # registered again or moved: deleted and written again under its id (on Citus a
        # row's user is its shard, so no update can move it)
        same_id = db_session.scalar(
            delete(Device)
            .where(Device.user_id == owner, Device.token == token)
            .returning(Device.id)
        )
        if same_id is not None:
            row["id"] = same_id
    device = db_session.scalars(
        insert(Device).values(row).returning(Device),
        execution_options={"populate_existing": True},
    ).one()
    _keep_newest(db_session, user_id)
    return view(device), owner != user_id


def _hold_token(db_session: Session, user_id: int, token: str) -> int | None:
    """Make ``token`` mine in ``device_tokens``, holding its row to the end of the
    transaction (a second registration of the token waits); whose it was, or None."""
    while True:
        owner = db_session.scalar(
            select(DeviceToken.user_id).where(DeviceToken.token == token).with_for_update()
        )
        if owner is not None:
            if owner != user_id:
                db_session.execute(
                    update(DeviceToken).where(DeviceToken.token == token).values(user_id=user_id)
                )
            return owner
        added = db_session.scalar(
            insert(DeviceToken)
            .values(token=token, user_id=user_id)
            .on_conflict_do_nothing()
            .returning(DeviceToken.user_id)
        )
        if added is not None:
            return None
        # registered by someone else meanwhile: hold their row, as above


def _keep_newest(db_session: Session, user_id: int) -> None:
    """Drop my devices beyond the newest ``MAX_DEVICES``, and their tokens."""
    keep = (
        select(Device.id)
        .where(Device.user_id == user_id)
        .order_by(Device.created_at.desc(), Device.id.desc())
        .limit(MAX_DEVICES)
    )
    gone = list(
        db_session.scalars(
            delete(Device)
            .where(Device.user_id == user_id, Device.id.not_in(keep))
            .returning(Device.token)
        )
    )
    _forget_tokens(db_session, user_id, gone)


def _forget_tokens(db_session: Session, user_id: int, tokens: list[str]) -> None:
    if tokens:
        db_session.execute(
            delete(DeviceToken).where(
                DeviceToken.token.in_(sorted(tokens)), DeviceToken.user_id == user_id
            )
        )


def list_mine(
    *, db_session: Session, user_id: int, limit: int, before: int | None
) -> tuple[list[dict], int | None]:
    """My devices, newest first (keyset on id)."""
    query = (
        select(Device).where(Device.user_id == user_id).order_by(Device.id.desc()).limit(limit + 1)
    )
    if before is not None:
        query = query.where(Device.id < before)
    rows = db_session.scalars(query).all()
    more = len(rows) > limit
    return [view(row) for row in rows[:limit]], (rows[limit - 1].id if more else None)


def remove(*, db_session: Session, user_id: int, device_id: int) -> None:
    """Forget one of my devices; 404 for anyone else's."""
    token = db_session.scalar(
        delete(Device)
        .where(Device.user_id == user_id, Device.id == device_id)
        .returning(Device.token)
    )
    if token is None:
        raise NotFound("No such device.")
    _forget_tokens(db_session, user_id, [token])
