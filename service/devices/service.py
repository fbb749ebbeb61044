"""Register, list and remove push devices."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import Device

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
    owner = db_session.scalar(select(Device.user_id).where(Device.token == token))
    device = db_session.scalars(
        insert(Device)
        .values(user_id=user_id, platform=platform, token=token, created_at=now)
        .on_conflict_do_update(
            index_elements=[Device.token],
            set_={"user_id": user_id, "platform": platform, "created_at": now},
        )
        .returning(Device),
        execution_options={"populate_existing": True},
    ).one()
    keep = (
        select(Device.id)
        .where(Device.user_id == user_id)
        .order_by(Device.created_at.desc(), Device.id.desc())
        .limit(MAX_DEVICES)
    )
    db_session.execute(delete(Device).where(Device.user_id == user_id, Device.id.not_in(keep)))
    return view(device), owner != user_id


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
    result = db_session.execute(
        delete(Device).where(Device.id == device_id, Device.user_id == user_id)
    )
    if result.rowcount == 0:
        raise NotFound("No such device.")
