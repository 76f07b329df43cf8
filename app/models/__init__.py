"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.account import Account, AccountNote, AccountPhone
from app.models.alerts import AlertChannel, AlertDelivery, AlertRule
from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.call import (
    Call,
    CallStateRow,
    CallStatusEvent,
    CallStep,
    CallTransfer,
    RingAttempt,
)
from app.models.closure import Closure
from app.models.console import (
    CallWrapUp,
    ConsoleEvent,
    Disposition,
    SwapRequest,
    TeamConsoleSettings,
)
from app.models.jobs import DailyJobRun
from app.models.planning import RotaPlan
from app.models.rota import (
    AuditEntry,
    LieuAdjustmentRow,
    ManualDayOffRow,
    MaterialisedWindow,
    OverrideRow,
    Rotation,
    RotationVersionRow,
    ShiftInstance,
    Specialist,
    Team,
    TeamMember,
)
from app.models.routing import QueueEntry, SpecialistPresence, WorkItem
from app.models.user import SignInAttempt, SignInLink, User, WebSession

__all__ = [
    "Account",
    "AccountNote",
    "AccountPhone",
    "AlertChannel",
    "AlertDelivery",
    "AlertRule",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Call",
    "CallStateRow",
    "CallStatusEvent",
    "CallStep",
    "CallTransfer",
    "CallWrapUp",
    "Closure",
    "ConsoleEvent",
    "DailyJobRun",
    "Disposition",
    "LieuAdjustmentRow",
    "ManualDayOffRow",
    "MaterialisedWindow",
    "OverrideRow",
    "QueueEntry",
    "RingAttempt",
    "RotaPlan",
    "Rotation",
    "RotationVersionRow",
    "ShiftInstance",
    "SignInAttempt",
    "SignInLink",
    "Specialist",
    "SpecialistPresence",
    "SwapRequest",
    "Team",
    "TeamConsoleSettings",
    "TeamMember",
    "User",
    "WebSession",
    "WorkItem",
]
