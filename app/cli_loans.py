"""Loans and the treasury (#13) on the command line.

    fachstelle treasury export [--until DATE] [--profile NAME] [--test] [--again BATCH] -o FILE
    fachstelle import-payments FILE [--dry-run]
    fachstelle loans report --as-of DATE --format json|xlsx [-o FILE]
    fachstelle import-loans FILE.csv [--dry-run]

Bad input is one German line (or the import's line-numbered report) on stderr and a non-zero exit.
"""
from __future__ import annotations

from pathlib import Path

import click

from . import clock
from .actor import Actor
from .cli_indicators import _app, _date, _fail, _format, _run_import

CLI_ACTOR = Actor.system("cli")


@click.group("treasury", help="Stadtkasse: Sollstellungen, Sollabgänge und Auszahlungsanordnungen übergeben.")
def treasury():
    pass


@treasury.command("export", help="Alle noch nicht übergebenen Kassenbuchungen als ein Stapel im Layout der Stadt.")
@click.option("--until", default=None, help="nur Buchungen fällig bis zu diesem Tag (TT.MM.JJJJ)")
@click.option("--profile", "profile", default=None, help="Layout aus settings.yaml treasury.layouts (Vorgabe: export_layout)")
@click.option("-o", "--output", required=True, help="Ausgabedatei")
@click.option("--test", "test", is_flag=True, help="Testübergabe: Datei schreiben, nichts als übergeben markieren")
@click.option("--again", "again", default=None, help="einen Stapel (z. B. 2026-0001) ausdrücklich noch einmal liefern")
def export_command(until, profile, output, test, again):
    from .extensions import db
    from .integrations.treasury.export import ExportError, export
    day = _date("--until", until) if until else None
    app = _app()
    with app.app_context():
        try:
            result = export(db.session, CLI_ACTOR, until=day, layout_name=profile, test=test, again=again,
                            file_name=Path(output).name)
            Path(output).write_bytes(result.data)
        except ExportError as exc:
            db.session.rollback()
            _fail(str(exc), 2)
        except OSError as exc:
            db.session.rollback()
            _fail(f"Datei {output} kann nicht geschrieben werden: {exc.strerror or exc}.")
        if test:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(result.report())


@click.command("import-payments", help="Zahlungen der Stadtkasse einlesen: CSV (buchungs_id;kassenzeichen;betrag;"
                                       "buchungstag;verwendungszweck) oder camt.053/camt.054 (.001.08).")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="nur prüfen und zeigen, was gebucht würde")
def import_payments_command(file, dry_run):
    from .integrations.treasury.payments import import_payments
    _run_import(import_payments, file, dry_run, CLI_ACTOR)


@click.group("loans", help="Darlehen: Berichte.")
def loans_group():
    pass


@loans_group.command("report", help="Alle laufenden Darlehen zum Stichtag mit gezahlt, offen, fällig, Rückstand, "
                                    "Status, dazu die Klärfälle (JSON oder XLSX).")
@click.option("--as-of", "as_of", default=None, help="Stichtag (Vorgabe: heute); nur bis dahin Gebuchtes zählt")
@click.option("--format", "fmt", default="json", show_default=True, help="json oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (xlsx nur in eine Datei)")
def loans_report(as_of, fmt, output):
    import json
    from .extensions import db
    from .services.loan_reports import loan_lines, report_json, write_xlsx
    fmt = _format(fmt, ("json", "xlsx"))
    day = _date("--as-of", as_of, default=clock.today())
    if fmt == "xlsx" and not output:
        _fail("Für --format xlsx bitte mit -o eine Datei angeben.", 2)
    app = _app()
    with app.app_context():
        if fmt == "json":
            text = json.dumps(report_json(db.session, CLI_ACTOR, day), ensure_ascii=False, indent=2) + "\n"
            if output:
                Path(output).write_text(text, encoding="utf-8")
            else:
                click.echo(text, nl=False)
            return
        lines = loan_lines(db.session, CLI_ACTOR, day)
        try:
            write_xlsx(lines, day, Path(output))
        except OSError as exc:
            _fail(f"Datei {output} kann nicht geschrieben werden: {exc.strerror or exc}.")
    click.echo(f"Geschrieben: {output}", err=True)


@click.command("import-loans", help="Darlehen aus einer Liste übernehmen (Altbestand): kassenzeichen;person;name;"
                                    "vorname;geburtsdatum;art;rechtsgrundlage;betrag;ausgezahlt_am;rate;"
                                    "erste_faelligkeit;status;gestundet_von;gestundet_bis;erlassen_betrag;erlassen_am")
@click.argument("file")
@click.option("--org-unit", "org_unit", default=None, help="Kürzel der Dienststelle (Vorgabe: die erste)")
@click.option("--dry-run", is_flag=True, help="nur prüfen und zeigen, was angelegt würde")
def import_loans_command(file, org_unit, dry_run):
    from .integrations.treasury.legacy_loans import import_loans
    _run_import(import_loans, file, dry_run, CLI_ACTOR, org_unit=org_unit)


def register(main) -> None:
    main.add_command(treasury)
    main.add_command(import_payments_command)
    main.add_command(loans_group)
    main.add_command(import_loans_command)
