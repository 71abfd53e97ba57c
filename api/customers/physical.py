"""The data tables themselves: their SQLAlchemy Core description and the DDL that changes them.

Every name here is derived (``api.customers.types``) from a key that passed ``check_key`` and
is quoted by the dialect's identifier preparer; values always travel as bound parameters.
DDL runs on the caller's connection, inside its transaction: PostgreSQL and SQLite (with the
pysqlite recipe of ``api.db``) both roll DDL back with the rest, so a failed design change
leaves no half-altered table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from api.customers.definitions import FieldSpec
from api.customers.types import (
    TABLE_PREFIX,
    FieldType,
    column_name,
    object_name,
    table_name,
)
from api.db import BigIntKey, JSONType, UTCDateTime, server_now

STATUS_LENGTH = 50


def column_type(spec: FieldSpec) -> sa.types.TypeEngine[Any]:
    """The column type of a field. Every string type is TEXT: PostgreSQL stores ``text`` and
    ``varchar(n)`` alike, and a length change or a change between string types (text → e-mail)
    then needs no DDL, only a check of the values; lengths are enforced by the field type."""
    match spec.type:
        case FieldType.integer:
            return sa.BigInteger()
        case FieldType.decimal:
            return sa.Numeric(18, spec.decimal_scale)
        case FieldType.date:
            return sa.Date()
        case FieldType.datetime:
            return UTCDateTime()
        case FieldType.boolean:
            return sa.Boolean()
        case FieldType.multi_select | FieldType.file:
            return JSONType
        case FieldType.reference:
            return BigIntKey
        case _:
            return sa.Text()


def _public_id_default(dialect: str) -> sa.TextClause:
    # 128 random bits as 32 hex digits, like api.db.new_id(), for rows written in bulk.
    if dialect == "postgresql":
        return sa.text("replace(CAST(gen_random_uuid() AS TEXT), '-', '')")
    return sa.text("(lower(hex(randomblob(16))))")


def system_columns(key: str, dialect: str) -> list[sa.schema.SchemaItem]:
    from api.staff.models import Staff

    staff_id = Staff.__table__.c.id  # type: ignore[attr-defined]
    return [
        sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
        sa.Column(
            "public_id", sa.String(32), nullable=False, server_default=_public_id_default(dialect)
        ),
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey(staff_id, ondelete="SET NULL", name=object_name("fk", key, "owner_id")),
            nullable=True,
        ),
        sa.Column("status", sa.String(STATUS_LENGTH), nullable=False, server_default=sa.text("''")),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=server_now()),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=server_now()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name=object_name("pk", key)),
        sa.Index(object_name("uq", key, "public_id"), "public_id", unique=True),
        sa.Index(object_name("ix", key, "owner_id"), "owner_id"),
    ]


def data_table(key: str, fields: Iterable[FieldSpec], dialect: str) -> sa.Table:
    """The Core table of ``ct_<key>`` with a column per field (retired ones included: their
    columns exist). Built fresh on its own MetaData: the data tables never join the models'."""
    metadata = sa.MetaData()
    columns = [sa.Column(column_name(f.key), column_type(f), nullable=True) for f in fields]
    return sa.Table(
        table_name(key),
        metadata,
        *system_columns(key, dialect),
        *columns,
        sqlite_autoincrement=True,  # ids are never reused: history refers to them
    )


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


# ------------------------------------------------------------------ DDL


def create_table(conn: Connection, key: str) -> None:
    """``CREATE TABLE ct_<key>`` with the system columns; fields are added one by one."""
    table = data_table(key, [], conn.dialect.name)
    table.create(conn)


def drop_table(conn: Connection, key: str) -> None:
    conn.exec_driver_sql(f"DROP TABLE {_quote(conn, table_name(key))}")


def add_column(conn: Connection, table_key: str, spec: FieldSpec, *, temp: str = "") -> None:
    """``ALTER TABLE … ADD COLUMN``: nullable and without a default, so it is instant on both
    databases (no row is rewritten). A reference also gets its foreign key and an index."""
    name = column_name(spec.key) + temp
    table = sa.Table("t", sa.MetaData(), sa.Column(name, column_type(spec), nullable=True))
    colspec = str(CreateColumn(table.c[name]).compile(dialect=conn.dialect))
    sql = f"ALTER TABLE {_quote(conn, table_name(table_key))} ADD COLUMN {colspec}"
    if spec.type == FieldType.reference and spec.references:
        action = "SET NULL" if spec.on_delete == "set_null" else "RESTRICT"
        fk = object_name("fk", table_key, spec.key)
        sql += (
            f" CONSTRAINT {_quote(conn, fk)} REFERENCES "
            f"{_quote(conn, table_name(spec.references))} (id) ON DELETE {action}"
        )
    conn.exec_driver_sql(sql)
    if not temp:
        create_indexes(conn, table_key, spec)


def drop_column(conn: Connection, table_key: str, column: str) -> None:
    conn.exec_driver_sql(
        f"ALTER TABLE {_quote(conn, table_name(table_key))} DROP COLUMN {_quote(conn, column)}"
    )


def alter_type(conn: Connection, table_key: str, spec: FieldSpec) -> None:
    """PostgreSQL only: ``ALTER COLUMN … TYPE … USING CAST`` (the database rewrites the column
    itself; the caller has made sure the cast gives what the field's normaliser gives)."""
    name = _quote(conn, column_name(spec.key))
    sql_type = column_type(spec).compile(dialect=conn.dialect)
    conn.exec_driver_sql(
        f"ALTER TABLE {_quote(conn, table_name(table_key))} ALTER COLUMN {name} "
        f"TYPE {sql_type} USING CAST({name} AS {sql_type})"
    )


def rename_column(conn: Connection, table_key: str, old: str, new: str) -> None:
    conn.exec_driver_sql(
        f"ALTER TABLE {_quote(conn, table_name(table_key))} "
        f"RENAME COLUMN {_quote(conn, old)} TO {_quote(conn, new)}"
    )


def index_names(table_key: str, field_key: str) -> tuple[str, str]:
    return object_name("uq", table_key, field_key), object_name("ix", table_key, field_key)


def wants_index(spec: FieldSpec, dialect: str) -> bool:
    """Plain index: asked for, or a reference (related tabs and ON DELETE checks read it)."""
    if spec.unique:
        return False
    if spec.type == FieldType.multi_select:
        return spec.indexed and dialect == "postgresql"  # GIN; SQLite has no JSON index
    return spec.indexed or spec.type == FieldType.reference


def create_indexes(conn: Connection, table_key: str, spec: FieldSpec) -> None:
    unique_name, index_name = index_names(table_key, spec.key)
    table = data_table(table_key, [spec], conn.dialect.name)
    column = table.c[column_name(spec.key)]
    if spec.unique:
        sa.Index(unique_name, column, unique=True).create(conn)
    elif wants_index(spec, conn.dialect.name):
        if spec.type == FieldType.multi_select:
            sa.Index(
                index_name,
                column,
                postgresql_using="gin",
                postgresql_ops={column.name: "jsonb_path_ops"},
            ).create(conn)
        elif conn.dialect.name == "postgresql":
            # (value, id): a sorted list pages by keyset on exactly this, in either direction,
            # without a sort step. SQLite ends every index entry with the rowid (the id).
            sa.Index(index_name, column, table.c.id).create(conn)
        else:
            sa.Index(index_name, column).create(conn)


def drop_indexes(conn: Connection, table_key: str, field_key: str) -> None:
    for name in index_names(table_key, field_key):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, name)}")


def existing_data_tables(conn: Connection) -> list[str]:
    return [t for t in sa.inspect(conn).get_table_names() if t.startswith(TABLE_PREFIX)]


def is_data_table(name: str | None) -> bool:
    return bool(name) and str(name).startswith(TABLE_PREFIX)


def alembic_include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object``: the app's data tables (and their indexes) are not
    Alembic's business; autogenerate neither drops nor creates them."""
    if type_ == "table":
        return not is_data_table(name)
    table = getattr(obj, "table", None)
    return not is_data_table(getattr(table, "name", None))
