"""ASGI entry point for uvicorn and other servers: ``uvicorn api.asgi:app``."""

from api.app import create_app

app = create_app()
