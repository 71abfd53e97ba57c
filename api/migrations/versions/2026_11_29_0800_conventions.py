"""conventions: constraint names, server-side defaults, a 64-bit audit log key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 08:00:00

Sets the conventions for tables that will hold millions of rows (issue 14, part 6):

* every constraint named by the naming convention (``pk_<table>``, ``uq_<table>_<cols>``,
  ``fk_<table>_<cols>_<referred>``): renamed in place on PostgreSQL (PostgreSQL chose the names
  for databases created before the convention); on SQLite, whose constraints were unnamed, each
  table is rebuilt (Alembic batch mode) with the names;
* server-side defaults for every column the models default, so bulk ``INSERT … SELECT`` and
  ``COPY`` may leave them out (the job table is left to the job-system migration);
* ``audit_log.id`` becomes BIGINT on PostgreSQL (SQLite's INTEGER key is 64-bit already): the
  audit log grows without bound, and the change is free now but a table rewrite later;
* the audit log's time index becomes ``(at, id)``, the list's order and keyset.

Immutable once on main: change the schema in a new migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy, as migrations do not import the app: the convention as of this revision.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NOW = sa.text("CURRENT_TIMESTAMP")

# table -> column -> server default
SERVER_DEFAULTS: dict[str, dict[str, sa.TextClause | str]] = {
    "staff": {
        "locale": "ja",
        "is_active": sa.text("true"),  # rendered 1 on SQLite below
        "created_at": NOW,
        "updated_at": NOW,
        "password_changed_at": NOW,
    },
    "staff_session": {"created_at": NOW, "last_seen_at": NOW},
    "api_token": {"created_at": NOW},
    "audit_log": {"at": NOW, "actor_label": "", "target_type": ""},
    "setting": {"updated_at": NOW, "updated_by": ""},
}

# Tables whose constraints take the convention's names (the job table too: names only).
TABLES = ("staff", "staff_session", "api_token", "audit_log", "setting", "job")

# Types of the columns given defaults (alter_column needs existing_type in batch mode).
TS = sa.DateTime(timezone=True)
TYPES: dict[tuple[str, str], sa.types.TypeEngine] = {
    ("staff", "locale"): sa.String(10),
    ("staff", "is_active"): sa.Boolean(),
    ("audit_log", "actor_label"): sa.String(300),
    ("audit_log", "target_type"): sa.String(50),
    ("setting", "updated_by"): sa.String(300),
}


def _type(table: str, column: str) -> sa.types.TypeEngine:
    return TYPES.get((table, column), TS)


def _sqlite_default(value: sa.TextClause | str) -> sa.TextClause | str:
    if isinstance(value, sa.TextClause) and value.text == "true":
        return sa.text("1")
    return value


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _renames(table: str) -> list[tuple[str, str]]:
    """(current name, convention's name) of each constraint of ``table`` named otherwise.

    Read from the database: revision 0001 left PostgreSQL's default names (``staff_pkey``,
    ``staff_email_key``…) on databases created before the convention, and the convention's
    names on databases created since (Alembic applies the target metadata's convention).
    """
    inspector = sa.inspect(op.get_bind())
    found: list[tuple[str | None, str]] = []
    pk = inspector.get_pk_constraint(table)
    found.append((pk.get("name"), f"pk_{table}"))
    for uq in inspector.get_unique_constraints(table):
        found.append((uq["name"], f"uq_{table}_" + "_".join(uq["column_names"])))
    for fk in inspector.get_foreign_keys(table):
        columns = "_".join(fk["constrained_columns"])
        found.append((fk["name"], f"fk_{table}_{columns}_{fk['referred_table']}"))
    return [(old, new) for old, new in found if old and old != new]


def _upgrade_postgresql() -> None:
    for table in TABLES:
        for old, new in _renames(table):
            op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')
    for table, columns in SERVER_DEFAULTS.items():
        for column, default in columns.items():
            op.alter_column(table, column, server_default=default)
    op.alter_column("audit_log", "id", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.execute("ALTER SEQUENCE audit_log_id_seq AS bigint")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])


def _upgrade_sqlite() -> None:
    # Foreign keys are off while migrations run on SQLite (api.migrate), so rebuilding a
    # referenced table (staff) cascades nothing; they are checked before the commit.
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", naming_convention=NAMING_CONVENTION
        ) as batch:
            for column, default in SERVER_DEFAULTS.get(table, {}).items():
                batch.alter_column(
                    column,
                    server_default=_sqlite_default(default),
                    existing_type=_type(table, column),
                )
            if table == "audit_log":
                batch.drop_index("ix_audit_log_at")
                batch.create_index("ix_audit_log_at_id", ["at", "id"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_audit_log_at_id", table_name="audit_log")
        op.create_index("ix_audit_log_at", "audit_log", ["at"])
        op.execute("ALTER SEQUENCE audit_log_id_seq AS integer")
        op.alter_column("audit_log", "id", type_=sa.Integer(), existing_type=sa.BigInteger())
        for table, columns in SERVER_DEFAULTS.items():
            for column in columns:
                op.alter_column(table, column, server_default=None)
        return
    # The constraint names stay on both databases: they are inert, and revision 0001 gives
    # new databases the same names anyway. The defaults and the index go back.
    for table, columns in SERVER_DEFAULTS.items():
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            for column in columns:
                batch.alter_column(column, server_default=None, existing_type=_type(table, column))
            if table == "audit_log":
                batch.drop_index("ix_audit_log_at_id")
                batch.create_index("ix_audit_log_at", ["at"])
