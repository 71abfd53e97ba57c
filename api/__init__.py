"""Kizuna's API package: the Litestar app, domain services, persistence and workers."""
