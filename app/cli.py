"""The ``fachstelle`` command: set up, migrate, sync roles, demo data, serve.

Every command reports problems in German and exits non-zero; none prints a stack trace for bad input.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import settings


def _fail(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)


def _load_spec():
    from . import load_configured_spec
    from .metamodel.issues import ConfigError
    try:
        return load_configured_spec()
    except ConfigError as exc:
        _fail(exc.report(), 2)


def _app(update_perms: bool = False, spec=None):
    from . import create_app
    from .metamodel.issues import ConfigError
    if update_perms:
        os.environ["FAB_UPDATE_PERMS"] = "True"
    spec = spec or _load_spec()
    instance = settings.instance_dir()
    instance.mkdir(parents=True, exist_ok=True)
    try:
        return create_app({"FAB_UPDATE_PERMS": update_perms}, spec=spec)
    except ConfigError as exc:  # the roles wiring, checked once the views are built
        _fail(exc.report(), 2)


def _migrate(app, allow_destructive: bool = False):
    from flask_appbuilder import Model

    from .extensions import db
    from .metamodel.migrate import MigrationFailed, MigrationRefused, migrate
    with app.app_context():
        try:
            return migrate(db.engine, Model.metadata, allow_destructive=allow_destructive,
                           spec=app.config["FACHSTELLE_SPEC"])
        except MigrationRefused as exc:
            _fail(str(exc), 3)
        except MigrationFailed as exc:
            _fail(str(exc), 6)


class _Group(click.Group):
    """Database and unexpected errors become one German line (FACHSTELLE_DEBUG=1 shows the trace)."""

    def invoke(self, ctx):
        from sqlalchemy.exc import OperationalError
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            if os.environ.get("FACHSTELLE_DEBUG"):
                raise
            _fail(f"Datenbank nicht erreichbar oder fehlerhaft ({settings.database_url().split('@')[-1]}): "
                  f"{exc.orig}", 4)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for the CLI user
            if os.environ.get("FACHSTELLE_DEBUG"):
                raise
            _fail(f"Unerwarteter Fehler: {exc.__class__.__name__}: {exc}\n"
                  "(Mit FACHSTELLE_DEBUG=1 erneut ausführen, um Details zu sehen.)", 5)


@click.group(cls=_Group, help="Fachstelle – Fallverwaltung für Wohnungsnotfälle.")
def main():
    settings.instance_dir().mkdir(parents=True, exist_ok=True)


@main.command("check-config", help="Konfiguration prüfen und ausstehende Schemaänderungen zeigen.")
def check_config():
    spec = _load_spec()
    _app(spec=spec)  # builds models and views: a profile granting a page no view offers is reported here
    city = settings.city()
    click.echo(f"Konfiguration in Ordnung: {len(spec.entities)} Seiten, {len(spec.catalogues)} Kataloge, "
               f"{len(spec.roles.profiles)} Profile" + (f" (Stadt: {city})" if city else "") + ".")
    from flask_appbuilder import Model
    from sqlalchemy import create_engine, inspect

    from .metamodel.migrate import plan
    engine = create_engine(settings.database_url())
    if not inspect(engine).get_table_names():
        click.echo("Datenbank ist leer: 'fachstelle init' legt sie an.")
        return
    pending = plan(engine, Model.metadata, spec)
    engine.dispose()
    if pending.empty:
        click.echo("Datenbankschema ist aktuell.")
        return
    click.echo("Ausstehende Schemaänderungen ('fachstelle migrate'):")
    for change in pending.changes:
        mark = "  x " if change.blocked else "  ! " if change.destructive else "  + "
        click.echo(f"{mark}{change}")
        if change.blocked:
            click.echo(f"      {change.blocked}")
    if pending.destructive:
        click.echo("Mit '!' markierte Änderungen können Daten löschen und werden nur mit --allow-destructive ausgeführt.")
    if pending.blocked:
        click.echo("Mit 'x' markierte Änderungen sind so nicht möglich; 'fachstelle migrate' lehnt sie ab.")


@main.command("problems-doc", help="docs/spec-checks.md aus dem Katalog der Prüfungen neu schreiben.")
def problems_doc():
    from . import problems_doc as doc
    click.echo(f"{doc.write()} geschrieben ({len(doc.CATALOGUE)} Kennungen).")


@main.command(help="Datenbankschema an die Konfiguration anpassen (Alembic-Revision schreiben und anwenden).")
@click.option("--allow-destructive", is_flag=True, help="Auch Felder/Tabellen entfernen (Daten werden vorher exportiert).")
def migrate(allow_destructive):
    app = _app()
    from sqlalchemy import inspect

    from .extensions import db
    with app.app_context():
        initialised = inspect(db.engine).has_table("catalogue_value")
    if initialised:
        # New catalogue values first: a new required choice field may default to one. Only the catalogues:
        # the other seeds (services, letter templates) may need the tables this migration creates.
        _seed_catalogues(app)
    result = _migrate(app, allow_destructive)
    for note in result.notes:
        click.echo(note)
    if result.plan.empty:
        click.echo("Datenbankschema ist bereits aktuell.")
        _seed(app)  # new services or letter templates from YAML still come in
        return
    for change in result.plan.changes:
        click.echo(f"  {'!' if change.destructive else '+'} {change}")
    for path in result.exported:
        click.echo(f"  Daten gesichert: {path}")
    click.echo(f"Migration angewendet (Revision {result.revision}).")
    if result.revision_path:
        click.echo(f"Revision gespeichert: {result.revision_path} (mit der Installation aufbewahren).")
    _seed(app)


def _seed_catalogues(app):
    from .extensions import db
    from .services.seed import seed_catalogues
    with app.app_context():
        seed_catalogues(db.session, app.config["FACHSTELLE_SPEC"])
        db.session.commit()


def _seed(app):
    from .extensions import db
    from .privacy_models import install_append_only
    from .services.seed import seed_all
    with app.app_context():
        seed_all(db.session, app.config["FACHSTELLE_SPEC"])
        install_append_only(db.session.connection())  # #15: PostgreSQL refuses UPDATE/DELETE of the access log
        db.session.commit()


def _sync_roles(app):
    from .web.build_roles import sync_roles
    from .web.fab_compat import create_builtin_roles
    with app.app_context():
        create_builtin_roles(app.appbuilder.sm)  # the Admin and Public roles
        app.appbuilder.add_permissions(update_perms=True)
        return sync_roles(app.appbuilder.sm, app.config["FACHSTELLE_SPEC"])


@main.command(help="Datenbank anlegen oder aktualisieren, Kataloge, Rollen und Admin-Konto einrichten.")
@click.option("--admin-user", envvar="FACHSTELLE_ADMIN_USER", default=None)
@click.option("--admin-password", envvar="FACHSTELLE_ADMIN_PASSWORD", default=None)
def init(admin_user, admin_password):
    if admin_user and admin_password:
        _check_password_or_fail(admin_password, admin_user, "--admin-password")  # before anything is written
    app = _app()
    result = _migrate(app)
    for note in result.notes:
        click.echo(note)
    if not result.plan.empty:
        click.echo(f"Datenbankschema angelegt/aktualisiert ({len(result.plan.changes)} Änderungen).")
    _seed(app)
    roles = _sync_roles(app)
    click.echo(f"Rollen synchronisiert: {', '.join(roles)}.")
    if admin_user:
        if not admin_password:
            _fail("Für --admin-user fehlt --admin-password (oder FACHSTELLE_ADMIN_PASSWORD).")
        from .errors import DomainError
        from .services.users import ensure_user
        with app.app_context():
            try:
                created = ensure_user(app.appbuilder.sm, admin_user, admin_password, "Admin", org_units=None)
            except DomainError as exc:
                _fail(str(exc))
        click.echo(f"Admin-Konto '{admin_user}' {'angelegt' if created else 'aktualisiert'}.")
    click.echo("Fertig.")


@main.command("sync-roles", help="Berechtigungsprofile aus roles.yaml in die Datenbank übernehmen.")
def sync_roles_cmd():
    app = _app()
    click.echo(f"Rollen synchronisiert: {', '.join(_sync_roles(app))}.")


@main.group(help="Rollen verwalten.")
def roles():
    pass


@roles.command("export", help="Rollen aus der Datenbank als roles.yaml ausgeben.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def roles_export(output):
    from .web.build_roles import export_roles
    app = _app()
    with app.app_context():
        text = export_roles(app.appbuilder.sm, app.config["FACHSTELLE_SPEC"])
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Geschrieben: {output}")
    else:
        click.echo(text)


def _check_password_or_fail(password: str, username: str, option: str, **names) -> None:
    from .errors import DomainError
    from .services.users import check_password
    try:
        check_password(password, username, **names)
    except DomainError as exc:
        _fail(f"{option}: {exc}")


@main.group(help="Benutzerkonten verwalten.")
def users():
    pass


@users.command("add", help="Benutzerkonto anlegen (oder Passwort, Rolle und Dienststellen aktualisieren).")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, help="Profilname aus roles.yaml oder Admin")
@click.option("--org-unit", "org_units", multiple=True, help="Kürzel oder Name der Dienststelle (mehrfach möglich)")
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--email", default=None)
@click.option("--temporary-password", is_flag=True,
              help="Das Passwort ist vorläufig: der Benutzer muss es bei der ersten Anmeldung ändern.")
def users_add(username, password, role, org_units, first_name, last_name, email, temporary_password):
    from .errors import DomainError
    from .services.users import ensure_user
    _check_password_or_fail(password, username, "--password", first_name=first_name, last_name=last_name,
                            email=email)
    app = _app()
    with app.app_context():
        try:
            created = ensure_user(app.appbuilder.sm, username, password, role, list(org_units),
                                  first_name=first_name, last_name=last_name, email=email,
                                  temporary=temporary_password)
        except DomainError as exc:
            _fail(str(exc))
    click.echo(f"Benutzer '{username}' {'angelegt' if created else 'aktualisiert'}."
               + (" Das Passwort muss bei der ersten Anmeldung geändert werden." if temporary_password else ""))


@main.command(help="Deterministische Demodaten anlegen (Faker de_DE) mit Demo-Benutzern je Rolle und Dienststelle.")
@click.option("--size", type=click.Choice(["small", "city"]), default="small", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def demo(size, seed):
    from .services.demo import load_demo
    app = _app()
    with app.app_context():
        summary = load_demo(app, size=size, seed=seed)
    click.echo(summary)


@main.command("import-streets", help="Straßenverzeichnis aus CSV einlesen (Straße;PLZ;Ort;Ortsteil).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_streets_cmd(file):
    from .extensions import db
    from .integrations.pipeline import terminal_progress
    from .integrations.streets import StreetImportError, import_streets
    app = _app()
    with app.app_context():
        try:
            result = import_streets(db.session, Path(file), progress=terminal_progress())
        except StreetImportError as exc:
            db.session.rollback()
            _fail(str(exc))
        db.session.commit()
    click.echo(f"Straßenverzeichnis: {result.added} neu, {result.updated} aktualisiert, {result.unchanged} unverändert.")


@main.command("import-events", help="Ereignisse aus Bezirkslisten als Doku-Einträge einlesen "
                                    "(CSV: fall_id;bezirk;ereignis;datum;zu_zweit).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Nur prüfen und zählen, nichts speichern.")
def import_events_cmd(file, dry_run):
    from .actor import Actor
    from .extensions import db
    from .integrations.events_import import ACTOR, EventImportError, import_events
    from .integrations.pipeline import terminal_progress
    app = _app()
    with app.app_context():
        try:
            # Progress on stderr: a bar on a terminal, a line every few seconds in a log, nothing in CI.
            result = import_events(db.session, Path(file), actor=Actor.system(ACTOR), progress=terminal_progress())
        except EventImportError as exc:
            db.session.rollback()
            _fail(str(exc))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(result.report(dry_run))


@main.command(help="Die Anwendung starten.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="gunicorn-Worker (0: Entwicklungsserver)")
def serve(host, port, workers):
    _load_spec()  # refuse to start on an invalid configuration, with the messages
    click.echo(f"Fachstelle läuft auf http://{host}:{port}/")
    if workers:
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{host}:{port}",
                                   "app.wsgi:app"])
    app = _app()
    app.run(host=host, port=port, threaded=True, use_reloader=False)


from .cli_indicators import register as _register_indicators  # noqa: E402  (indicators, success-measures)
_register_indicators(main)
from .cli_statistics import register as _register_statistics  # noqa: E402  (statistics nrw|bund, #14)
_register_statistics(main)
from .cli_fees import register as _register_fees  # noqa: E402  (#12: fees run, tariffs)
_register_fees(main)
from .cli_loans import register as _register_loans  # noqa: E402  (treasury export, payments, loans: #13)
_register_loans(main)
from .cli_accommodation import register as _register_accommodation  # noqa: E402  (#12: occupancy-report, imports)
_register_accommodation(main)
from .cli_privacy import register as _register_privacy  # noqa: E402  (access-log, retention, subject-access: #15)
_register_privacy(main)


def register_cli(app) -> None:
    """Also expose the commands under ``flask`` for developers used to it."""
    app.cli.add_command(main, "fachstelle")


if __name__ == "__main__":
    main()
