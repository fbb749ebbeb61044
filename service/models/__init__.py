"""SQLAlchemy models. The schema itself is made only by Alembic migrations."""

from service.models.base import Base
from service.models.calendar import CalendarCancellation, CalendarToken
from service.models.checkin import Checkin, PointsEntry
from service.models.event import Event, Rsvp
from service.models.footfall import (
    VenueHour,
    VenueVisit,
    VenueVisitChange,
    VenueVisitor,
    VenueVisitorDay,
)
from service.models.idempotency import IdempotencyKey
from service.models.lookups import (
    CalendarTokenHash,
    DeviceToken,
    UserEmail,
    UserHandle,
    VerifiedHandle,
)
from service.models.meeting import Meeting
from service.models.notification import (
    Device,
    NearbyQuota,
    Notification,
    NotificationStream,
    PushDelivery,
)
from service.models.owner import AdminAction, VenueClaim
from service.models.plan import Plan
from service.models.reward import (
    MayorshipChange,
    UserBadge,
    UserCity,
    UserVenue,
    VenueMayor,
    VenueStaff,
    VenueVisitDay,
)
from service.models.social import Follow, Identity, OAuthState, PendingFollow, Relationship
from service.models.token import RefreshToken
from service.models.user import User
from service.models.venue import Venue

__all__ = [
    "AdminAction",
    "Base",
    "CalendarCancellation",
    "CalendarToken",
    "CalendarTokenHash",
    "Checkin",
    "Device",
    "DeviceToken",
    "Event",
    "Follow",
    "IdempotencyKey",
    "Identity",
    "MayorshipChange",
    "Meeting",
    "NearbyQuota",
    "Notification",
    "NotificationStream",
    "OAuthState",
    "PendingFollow",
    "Plan",
    "PointsEntry",
    "PushDelivery",
    "RefreshToken",
    "Relationship",
    "Rsvp",
    "User",
    "UserBadge",
    "UserCity",
    "UserEmail",
    "UserHandle",
    "UserVenue",
    "Venue",
    "VenueClaim",
    "VenueHour",
    "VenueMayor",
    "VenueStaff",
    "VenueVisit",
    "VenueVisitChange",
    "VenueVisitDay",
    "VenueVisitor",
    "VenueVisitorDay",
    "VerifiedHandle",
]
