"""Files only this process's user may read: ``var/``, the SQLite database (and its WAL/SHM
files), the dev secret and the outbox. Directories ``0700``, files ``0600``.

SQLite creates its ``-wal`` and ``-shm`` files with the permissions of the database file, so
creating (or tightening) the database file first is enough for all three.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it owner-only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, and make it owner-only read/write."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(FILE_MODE)
    else:
        os.close(fd)
    return path


def sqlite_files(database: Path) -> list[Path]:
    """The database file and the journal files SQLite keeps beside it."""
    return [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]


def protect_sqlite(database: Path) -> None:
    """Make a SQLite database private before SQLite opens it (it then creates ``-wal`` and
    ``-shm`` with the same mode); tighten journal files left by an older version."""
    if not database.parent.exists():
        private_dir(database.parent)
    private_file(database)
    for extra in sqlite_files(database)[1:]:
        if extra.exists() and stat.S_IMODE(extra.stat().st_mode) & 0o077:
            extra.chmod(FILE_MODE)
