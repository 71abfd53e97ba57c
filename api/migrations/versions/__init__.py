"""Alembic revisions (immutable once on main)."""
