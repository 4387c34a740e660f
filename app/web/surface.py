"""What every HTTP response shares: who authenticates a request (session cookie + CSRF, or a JWT), the
security headers with a per-request CSP nonce, and German JSON errors under ``/api/``.

1. **CSRF.** A state-changing request is exempt from the CSRF check only when a *valid* JWT
   (``Authorization: Bearer``) authenticates it; the request then runs as the token's user and the session
   cookie is not consulted. A Bearer header that does not verify is answered 401 — it never falls back to
   the cookie (a cookie POST with a junk token used to skip the check and write as the cookie's user).
   The token endpoints themselves (``/api/v1/security/login`` and ``/refresh``) take credentials or a
   refresh token, not a cookie, and are not CSRF-checked.
2. **Headers** on every response: a Content-Security-Policy whose scripts must come from this site or
   carry the request's nonce (``csp_nonce()`` in templates, as FAB's ``baselib.get_nonce()`` asks for),
   ``frame-ancestors 'none'`` with ``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy: same-origin``.
3. **REST errors** speak German: FAB's English defaults ("Forbidden", "Not found", "Not authorized" …),
   Flask's own 404/405 for unknown API paths and flask-jwt-extended's token errors become
   ``{"message": "<deutsch>"}``.
"""
from __future__ import annotations

import logging
import secrets

from flask import Flask, g, jsonify, request

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
#: Endpoints that take credentials or a refresh token in the body/header instead of a session cookie.
TOKEN_ENDPOINTS = frozenset({"SecurityApi.login", "SecurityApi.refresh"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: The German message of each status of the REST API.
GERMAN_STATUS = {
    400: "Die Anfrage ist fehlerhaft.",
    401: "Nicht angemeldet oder Anmeldung ungültig. Bitte mit gültigem Token oder Sitzung anfragen.",
    403: "Keine Berechtigung.",
    404: "Nicht gefunden.",
    405: "Diese Methode ist hier nicht erlaubt.",
    409: "Der Datensatz wurde inzwischen geändert.",
    413: "Die Anfrage ist zu groß.",
    422: "Die Angaben konnten nicht verarbeitet werden.",
    429: "Zu viele Anfragen. Bitte später erneut versuchen.",
    500: "Ein interner Fehler ist aufgetreten. Nichts wurde gespeichert.",
}
#: FAB's and Flask-JWT-Extended's English texts, and what they say in German.
GERMAN_TEXTS = {
    "Forbidden": GERMAN_STATUS[403],
    "Not found": GERMAN_STATUS[404],
    "Not authorized": GERMAN_STATUS[401],
    "Arguments are not correct": GERMAN_STATUS[400],
    "Could not process entity": GERMAN_STATUS[422],
    "Internal error": GERMAN_STATUS[500],
    "Fatal error": GERMAN_STATUS[500],
    "Request is not JSON": "Die Anfrage muss JSON senden (Content-Type: application/json).",
    "Not a valid rison argument": "Der Parameter „q“ ist kein gültiges Rison.",
    "Not a valid rison/json argument": "Der Parameter „q“ ist kein gültiges Rison oder JSON.",
    "Missing username parameter": "Bitte „username“ angeben.",
    "Missing password parameter": "Bitte „password“ angeben.",
    "Missing provider parameter": "Bitte „provider“ angeben (db).",
    "Missing JSON in request": "Die Anfrage muss JSON senden (Content-Type: application/json).",
    "Invalid provider": "Unbekannter Anmelde-Weg „provider“ (erlaubt: db).",
    "Token has expired": "Das Token ist abgelaufen. Bitte neu anmelden oder das Refresh-Token verwenden.",
    "Signature verification failed": "Das Token ist ungültig.",
    "Not enough segments": "Das Token ist ungültig.",
    "Fresh token required": "Für diese Aktion ist eine frische Anmeldung nötig.",
    "Token has been revoked": "Das Token wurde widerrufen.",
}
#: Marshmallow's field messages (REST 422), in German.
GERMAN_FIELD_TEXTS = {
    "Missing data for required field.": "Pflichtfeld: bitte angeben.",
    "Field may not be null.": "Darf nicht leer sein.",
    "Unknown field.": "Unbekanntes Feld.",
    "Not a valid integer.": "Keine gültige ganze Zahl.",
    "Not a valid number.": "Keine gültige Zahl.",
    "Not a valid string.": "Kein gültiger Text.",
    "Not a valid boolean.": "Kein gültiger Wahrheitswert (true/false).",
    "Not a valid date.": "Kein gültiges Datum (JJJJ-MM-TT).",
    "Not a valid datetime.": "Kein gültiger Zeitpunkt (ISO 8601).",
    "Not a valid email address.": "Keine gültige E-Mail-Adresse.",
    "Not a valid list.": "Keine gültige Liste.",
    "Invalid input type.": "Ungültiger Eingabetyp.",
    "Related object doesn't exist in DB": "Den genannten Datensatz gibt es nicht.",
}


# --- nonce ------------------------------------------------------------------------------------------------

def csp_nonce() -> str:
    """This request's nonce (made on first use): every inline ``<script>`` carries it."""
    nonce = g.get("fs_csp_nonce")
    if nonce is None:
        nonce = g.fs_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    # Styles: FAB's widgets and Bootstrap set style attributes; an inline style cannot run code.
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def set_security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    return response


# --- who authenticates a request -------------------------------------------------------------------------

def _bearer() -> str | None:
    value = request.headers.get("Authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def authenticate_request(csrf):
    """before_request: a valid JWT makes the request the token's (no CSRF, no cookie); else CSRF for writes."""
    from .fab_compat import set_request_user
    if request.endpoint in TOKEN_ENDPOINTS:
        return None
    token = _bearer()
    if token is not None:
        from flask_jwt_extended import get_current_user, verify_jwt_in_request
        try:
            verify_jwt_in_request()
            user = get_current_user()
        except Exception as exc:  # noqa: BLE001 - every way a token fails is a 401 with a German reason
            log.info("JWT refused: %s", exc)
            return api_error(401, _token_problem(exc))
        if user is None or not user.is_active:
            return api_error(401, "Das Konto dieses Tokens gibt es nicht oder es ist deaktiviert.")
        set_request_user(user)  # Flask-Login's user of this request: the session cookie is not read
        g.fs_jwt_request = True
        return None
    from flask import current_app
    if not current_app.config.get("WTF_CSRF_ENABLED", True) or request.method in SAFE_METHODS:
        return None
    csrf.protect()
    return None


def _token_problem(exc: Exception) -> str:
    text = str(exc)
    if "expired" in text.lower():
        return GERMAN_TEXTS["Token has expired"]
    if "refresh" in text.lower():
        return "Mit einem Refresh-Token lassen sich nur neue Tokens holen (/api/v1/security/refresh)."
    return "Das Token ist ungültig."


def is_jwt_request() -> bool:
    return bool(g.get("fs_jwt_request"))


# --- German JSON errors under /api/ ---------------------------------------------------------------------

def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(status: int, message: str | None = None):
    response = jsonify(message=message or GERMAN_STATUS.get(status, GERMAN_STATUS[500]))
    response.status_code = status
    return response


def german_message(status: int, message):
    """An error body's ``message`` in German: FAB's defaults and marshmallow's field texts translated."""
    if isinstance(message, dict):
        return {key: german_message(status, value) for key, value in message.items()}
    if isinstance(message, list):
        return [german_message(status, value) for value in message]
    if not isinstance(message, str):
        return message
    if message in GERMAN_TEXTS:
        return GERMAN_TEXTS[message]
    if message in GERMAN_FIELD_TEXTS:
        return GERMAN_FIELD_TEXTS[message]
    if message.startswith("Longer than maximum length"):
        return f"Zu lang: höchstens {message.rsplit(' ', 1)[-1].rstrip('.')} Zeichen."
    if message.startswith("Database exception occurred"):
        log.warning("REST: %s", message)
        return "Der Datensatz konnte nicht gespeichert werden (die Datenbank hat ihn abgelehnt)."
    if message.startswith("Not a valid rison schema"):
        detail = message[len("Not a valid rison schema"):].strip()  # jsonschema's words: for developers
        return "Der Parameter „q“ passt nicht zum erwarteten Aufbau" + (f" ({detail})." if detail else ".")
    if message.startswith("Must be one of"):
        return "Kein zulässiger Wert."
    return message


def germanise_api_response(response):
    """after_request: JSON errors of every /api/ route in German (FAB's own APIs included)."""
    if response.status_code < 400 or not is_api_request() or not response.is_json:
        return response
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return response
    if "msg" in body and "message" not in body:  # flask-jwt-extended's key
        body["message"] = body.pop("msg")
    if "message" not in body:
        body["message"] = GERMAN_STATUS.get(response.status_code, GERMAN_STATUS[500])
    translated = {**body, "message": german_message(response.status_code, body["message"])}
    if translated != body or "msg" in (response.get_json(silent=True) or {}):
        response.set_data(jsonify(translated).get_data())
    return response


def check_rison_argument():
    """before_request: a ``q`` that the rison parser cannot even walk (``(((`` recurses until Python gives
    up) is a 400, not FAB's 500; what it can parse FAB checks as before."""
    if not is_api_request() or "q" not in request.args:
        return None
    import prison
    try:
        prison.loads(request.args["q"])
    except prison.decoder.ParserException:
        return None  # FAB answers these with its own 400 (translated above)
    except (RecursionError, ValueError, TypeError, IndexError, KeyError):
        return api_error(400, GERMAN_TEXTS["Not a valid rison argument"])
    return None


def check_record_key():
    """before_request: every record number is an integer; ``/case/show/abc`` is a 404 (PostgreSQL would
    otherwise fail on the cast with a 500)."""
    pk = (request.view_args or {}).get("pk")
    if pk is not None and not str(pk).isdigit():
        from flask import abort
        abort(404)


# --- wiring ------------------------------------------------------------------------------------------------

def install(app: Flask, csrf) -> None:
    """Called by create_app before AppBuilder, so the checks run before FAB's own before_request."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _authenticate():
        return authenticate_request(csrf)

    app.before_request(check_record_key)
    app.before_request(check_rison_argument)
    app.after_request(germanise_api_response)
    app.after_request(set_security_headers)


def install_jwt_messages(jwt_manager) -> None:
    """flask-jwt-extended's answers (missing, expired, invalid token) in German, as ``message``."""
    jwt_manager.unauthorized_loader(lambda reason: api_error(401, GERMAN_STATUS[401]))
    jwt_manager.invalid_token_loader(lambda reason: api_error(401, "Das Token ist ungültig."))
    jwt_manager.expired_token_loader(lambda header, data: api_error(401, GERMAN_TEXTS["Token has expired"]))
    jwt_manager.revoked_token_loader(lambda header, data: api_error(401, GERMAN_TEXTS["Token has been revoked"]))
    jwt_manager.needs_fresh_token_loader(lambda header, data: api_error(401, GERMAN_TEXTS["Fresh token required"]))
    jwt_manager.user_lookup_error_loader(
        lambda header, data: api_error(401, "Das Konto dieses Tokens gibt es nicht oder es ist deaktiviert."))
