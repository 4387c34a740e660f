"""Accommodation commands (#12).

    fachstelle occupancy-report --from 01.06.2025 --to 30.06.2025 [--format json|xlsx] [-o FILE]
    fachstelle import-shelters FILE.csv [--org-unit obdach] [--dry-run]
    fachstelle import-occupancy FILE.csv [--dry-run]
    fachstelle reservations-expire [--date TT.MM.JJJJ]

Bad input is one German line (or the import's line-numbered report) on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from .actor import Actor
from .cli_indicators import _app, _date, _fail, _format, _run_import, _write

CLI_ACTOR = Actor.system("cli")
IMPORT_ACTOR = Actor.system("import")  # the imports' history names "import", as before


@click.command("occupancy-report", help="Kapazität und Auslastung je Unterkunft im Zeitraum "
                                        "(Plätze, Kapazitätsnächte, belegte Nächte, Auslastung in %).")
@click.option("--from", "date_from", help="Beginn (TT.MM.JJJJ oder JJJJ-MM-TT); die Nacht dieses Tages zählt")
@click.option("--to", "date_to", help="Ende; die Nacht dieses Tages zählt mit")
@click.option("--format", "fmt", default="json", show_default=True, help="json oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (xlsx nur in eine Datei)")
def occupancy_report(date_from, date_to, fmt, output):
    from .errors import DomainError
    from .extensions import db
    from .services.accommodation import utilisation, utilisation_json, write_utilisation_xlsx
    fmt = _format(fmt, ("json", "xlsx"))
    start, end = _date("--from", date_from), _date("--to", date_to)
    app = _app()
    with app.app_context():
        try:
            rows = utilisation(db.session, CLI_ACTOR, start, end)
        except DomainError as exc:
            _fail(str(exc), 2)
    if fmt == "xlsx":
        data = write_utilisation_xlsx(rows, start, end)
        _write(output, fmt, xlsx=lambda target: Path(target).write_bytes(data))
    else:
        _write(output, fmt, json.dumps(utilisation_json(rows), ensure_ascii=False, indent=2) + "\n")


@click.command("import-shelters", help="Unterkünfte aus einer Liste einlesen "
                                       "(CSV: unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--org-unit", default=None, help="Dienststelle neuer Unterkünfte (Kürzel; Vorgabe: obdach bzw. die erste)")
@click.option("--dry-run", is_flag=True, help="Nur prüfen und zählen, nichts speichern.")
def import_shelters_cmd(file, org_unit, dry_run):
    from .integrations.accommodation_import import import_shelters
    _run_import(import_shelters, file, dry_run, IMPORT_ACTOR, org_unit=org_unit)


@click.command("import-occupancy", help="Belegung aus einer Altliste einlesen (CSV: haushalt;person;name;vorname;"
                                        "geburtsdatum;geschlecht;staatsangehoerigkeit;zuwanderungsgeschichte;rolle;"
                                        "unterkunft;platz;einzug;auszug;rechtsgrundlage).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Nur prüfen und zählen, nichts speichern.")
def import_occupancy_cmd(file, dry_run):
    from .integrations.accommodation_import import import_occupancy
    _run_import(import_occupancy, file, dry_run, IMPORT_ACTOR)


@click.command("reservations-expire", help="Reservierungen, deren Frist abgelaufen ist, auf „abgelaufen“ setzen "
                                           "(täglicher Lauf).")
@click.option("--date", "day", default=None, help="Stichtag (TT.MM.JJJJ); Vorgabe: heute")
def reservations_expire(day):
    from . import clock
    from .extensions import db
    from .services.occupancy import expire_reservations
    today = _date("--date", day) if day else None
    app = _app()
    with app.app_context():
        found = expire_reservations(db.session, CLI_ACTOR, today or clock.today())
    click.echo(f"{len(found)} Reservierung(en) abgelaufen.")


def register(main: click.Group) -> None:
    main.add_command(reservations_expire)
    main.add_command(occupancy_report)
    main.add_command(import_shelters_cmd)
    main.add_command(import_occupancy_cmd)
