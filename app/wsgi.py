"""WSGI entry point for gunicorn: ``gunicorn -w 4 app.wsgi:app`` (permissions are synced by init)."""
from . import create_app

app = create_app()
