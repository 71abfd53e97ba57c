"""Every table model, imported in one place so metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from api.audit.models import AuditEntry
from api.customers.models import (
    CustomerDesignStamp,
    CustomerField,
    CustomerFile,
    CustomerTable,
    CustomerView,
    RecordHistory,
)
from api.groups.models import GroupMembership, MemberGroup
from api.imports.models import CustomerImport, CustomerImportError
from api.jobs.models import Job, JobUnit
from api.livesettings.models import Setting
from api.members.models import MemberAccount, MemberEvent, MemberSession, MemberToken
from api.staff.models import ApiToken, Staff, StaffSession

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "CustomerDesignStamp",
    "CustomerField",
    "CustomerFile",
    "CustomerImport",
    "CustomerImportError",
    "CustomerTable",
    "CustomerView",
    "GroupMembership",
    "Job",
    "JobUnit",
    "MemberAccount",
    "MemberEvent",
    "MemberGroup",
    "MemberSession",
    "MemberToken",
    "RecordHistory",
    "Setting",
    "Staff",
    "StaffSession",
    "metadata",
]
