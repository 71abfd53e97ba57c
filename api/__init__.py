"""Kizuna's API package: the Litestar app, domain services, persistence and workers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kizuna")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
