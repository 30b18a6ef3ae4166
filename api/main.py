"""ASGI entry point for uvicorn (`eventmart serve`): `api.main:app`."""

from api.app import create_app
from core.logging import configure_logging
from core.settings import get_settings

configure_logging(get_settings(), "api")
app = create_app()
