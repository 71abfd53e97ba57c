"""Every module that declares actors; importing this declares them all (workers import it)."""

import api.mail.tasks  # noqa: F401
