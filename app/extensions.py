"""The process-wide extension objects; ``create_app`` binds them to an app."""
from flask_appbuilder.models.sqla.base import SQLA
from flask_wtf.csrf import CSRFProtect

db = SQLA()
csrf = CSRFProtect()
