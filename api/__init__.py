"""Kizuna's API package: the Litestar app, domain services, persistence and workers."""

from typing import Any


def __getattr__(name: str) -> Any:
    # ``__version__`` read when asked for: importlib.metadata costs ~15 ms, which every import
    # of a plain module (the build's ``api.access.rules``) would otherwise pay.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("kizuna")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0.0.0+source"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
