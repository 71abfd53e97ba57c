"""Every table model, imported in one place so metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from api.audit.models import AuditEntry
from api.customers.models import (
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
from api.members.models import MemberAccount, MemberSession
from api.staff.models import ApiToken, Staff, StaffSession

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
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
    "MemberGroup",
    "MemberSession",
    "RecordHistory",
    "Setting",
    "Staff",
    "StaffSession",
    "metadata",
]
