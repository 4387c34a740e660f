"""``fachstelle access-log``, ``fachstelle retention`` and ``fachstelle subject-access`` (data protection, #15).

    fachstelle access-log [--user NAME] [--entity NAME --id N] [--from DATE --to DATE] --format json|csv [-o FILE]
    fachstelle retention --dry-run [--as-of DATE] [--format text|json]
    fachstelle retention --apply [--as-of DATE]
    fachstelle subject-access PARTNER_ID -o FILE.zip

The operator runs these on the server: they see every unit (``Actor.system``); the run itself is logged
(retention protocol, access log). Bad input is one German line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from . import clock
from .actor import Actor
from .cli_indicators import _app, _date, _fail, _format, _write

CLI_ACTOR = Actor.system("cli")


@click.command("access-log", help="Zugriffsprotokoll der vertraulichen Seiten durchsuchen (JSON oder CSV).")
@click.option("--user", "user", default=None, help="Benutzername")
@click.option("--entity", "entity", default=None, help="Seite (Entität), z. B. help_plan")
@click.option("--id", "record_id", type=int, default=None, help="Nr. des Datensatzes (mit --entity)")
@click.option("--from", "date_from", default=None, help="ab Datum (TT.MM.JJJJ oder JJJJ-MM-TT)")
@click.option("--to", "date_to", default=None, help="bis Datum (einschließlich)")
@click.option("--format", "fmt", default="json", show_default=True, help="json oder csv")
@click.option("-o", "--output", default=None, help="Ausgabedatei (Vorgabe: Bildschirm)")
def access_log(user, entity, record_id, date_from, date_to, fmt, output):
    from .extensions import db
    from .services import access_log as log
    fmt = _format(fmt, ("json", "csv"))
    if record_id is not None and not entity:
        _fail("--id nur zusammen mit --entity angeben.", 2)
    start = _date("--from", date_from) if date_from else None
    end = _date("--to", date_to) if date_to else None
    if start and end and end < start:
        _fail("--to liegt vor --from.", 2)
    app = _app()
    with app.app_context():
        spec = app.config["FACHSTELLE_SPEC"]
        if entity and spec.entity(entity) is None and entity != "partner":
            _fail(f"--entity: eine Seite „{entity}“ gibt es nicht.", 2)
        rows = log.search(db.session, user=user, entity=entity, record_id=record_id, date_from=start, date_to=end)
        text = log.write_json(rows) if fmt == "json" else log.write_csv(rows)
    _write(output, fmt, text)


@click.command("retention", help="Aufbewahrungsfristen: fällige Datensätze zeigen (--dry-run) oder löschen "
                                 "bzw. anonymisieren (--apply), mit Protokoll.")
@click.option("--dry-run", "dry_run", is_flag=True, help="nur zeigen, was fällig ist")
@click.option("--apply", "do_apply", is_flag=True, help="fällige Datensätze löschen bzw. anonymisieren")
@click.option("--as-of", "as_of", default=None, help="Stichtag (Vorgabe: heute)")
@click.option("--format", "fmt", default="text", show_default=True, help="text oder json")
def retention(dry_run, do_apply, as_of, fmt):
    from .extensions import db
    from .services import retention as service
    if dry_run == do_apply:
        _fail("Bitte genau eins angeben: --dry-run oder --apply.", 2)
    fmt = _format(fmt, ("text", "json"))
    today = _date("--as-of", as_of, default=clock.today())
    app = _app()
    with app.app_context():
        started = time.perf_counter()
        if dry_run:
            report = service.find_due(db.session, today)
            db.session.rollback()
        else:
            report = service.apply(db.session, today, CLI_ACTOR)
            db.session.commit()
        seconds = time.perf_counter() - started
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    due = report.as_dict()["due_count"]
    click.echo(f"Stichtag {today:%d.%m.%Y}: fällig " + (", ".join(f"{k}: {v}" for k, v in due.items()) or "nichts"))
    for name, count in report.held.items():
        if count:
            click.echo(f"  {name}: {count} wegen Löschsperre (Legal Hold) zurückgehalten")
    if report.blocked:
        click.echo(f"  {len(report.blocked)} trotz abgelaufener Frist blockiert (Buchungen, Darlehen):")
        for b in report.blocked[:50]:
            click.echo(f"    {b.entity} {b.record_id}: {'; '.join(b.reasons)}")
        if len(report.blocked) > 50:
            click.echo(f"    … und {len(report.blocked) - 50} weitere (--format json zeigt alle)")
    if do_apply:
        click.echo(f"Ausgeführt (Lauf {report.run_id}): " + (", ".join(f"{k}: {v}" for k, v in
                                                                     sorted(report.erased.items())) or "nichts"))
        click.echo(f"Personen gelöscht: {len(report.partners_erased)}, behalten (weitere Datensätze): "
                   f"{len(report.partners_kept)}")
    click.echo(f"Dauer: {seconds:.1f} s", err=True)


@click.command("subject-access", help="Auskunft nach Art. 15 DSGVO: alles zu einer Person als ZIP "
                                      "(Zusammenfassung .docx, Rohdaten JSON/XLSX, Briefe, Dokumente, Verlauf).")
@click.argument("partner_id", type=int)
@click.option("-o", "--output", required=True, help="ZIP-Datei")
def subject_access(partner_id, output):
    from .errors import DomainError
    from .extensions import db
    from .services.subject_access import subject_access_zip
    app = _app()
    with app.app_context():
        try:
            export, data = subject_access_zip(db.session, partner_id, CLI_ACTOR)
        except DomainError as exc:
            _fail(str(exc), 2)
        db.session.commit()
    path = Path(output)
    try:
        path.write_bytes(data)
    except OSError as exc:
        _fail(f"Datei {path} kann nicht geschrieben werden: {exc.strerror or exc}.")
    click.echo(f"Geschrieben: {path} ({sum(len(r) for r in export.raw.values())} Datensätze, "
               f"{len(export.letters)} Briefe, {len(export.documents)} Dokumente)", err=True)


def register(main: click.Group) -> None:
    main.add_command(access_log)
    main.add_command(retention)
    main.add_command(subject_access)
