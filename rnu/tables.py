"""Every table, imported in one place so SQLModel.metadata is complete for Alembic."""

from rnu.agency.models import (
    AgencyUpload,
    ApiClient,
    DciTransaction,
    NotificationDelivery,
    PersistedQuery,
    Subscription,
    VerificationJob,
)
from rnu.audit.models import AuditEvent
from rnu.batch.models import LoadBatch, QuarantinedRow
from rnu.constancia.models import Constancia
from rnu.enrollment.models import Enrollment, RollRow
from rnu.flag.models import Flag
from rnu.person.models import DeathRecord, Household, HouseholdMember, Person
from rnu.program.models import Program
from rnu.registry_state import RegistryState
from rnu.report.models import CitizenReport
from rnu.review.models import MatchReviewItem
from rnu.staff.models import (
    Evidence,
    FieldTask,
    FlagEvent,
    StaffSession,
    StaffUser,
    VolunteerReport,
)
from rnu.ubigeo.models import Ubigeo

__all__ = [
    "AgencyUpload",
    "DciTransaction",
    "NotificationDelivery",
    "PersistedQuery",
    "Subscription",
    "VerificationJob",
    "ApiClient",
    "AuditEvent",
    "CitizenReport",
    "Constancia",
    "DeathRecord",
    "Enrollment",
    "Evidence",
    "FieldTask",
    "Flag",
    "FlagEvent",
    "Household",
    "HouseholdMember",
    "LoadBatch",
    "MatchReviewItem",
    "Person",
    "Program",
    "QuarantinedRow",
    "RegistryState",
    "RollRow",
    "StaffSession",
    "StaffUser",
    "Ubigeo",
    "VolunteerReport",
]
