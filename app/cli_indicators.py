"""``fachstelle indicators`` (QS 1.1–1.5 report, survey form, merging forms) and ``fachstelle success-measures``.

    fachstelle indicators --from 01.01.2025 --to 31.03.2025 [--as-of 15.04.2025] [--org-unit mitte]
                          [--format json|csv|xlsx] [-o FILE]
    fachstelle indicators aggregate bogen_mitte.xlsx bogen_pankow.xlsx [--format json|xlsx] [-o FILE]
    fachstelle success-measures --from 01.01.2025 --to 31.12.2025 [--org-unit …] -o erfolg.xlsx

Bad input (a date, an org unit, a file) is one German line on stderr and a non-zero exit, never a trace.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from . import clock
from .actor import Actor

BERLIN = ZoneInfo("Europe/Berlin")
REPORT_FORMATS = ("json", "csv", "xlsx")
AGGREGATE_FORMATS = ("json", "xlsx")


def _fail(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)


def _date(option: str, text: str | None, default: date | None = None) -> date:
    from .domain.periods import parse_date
    if text is None or not text.strip():
        if default is None:
            _fail(f"Bitte {option} angeben (TT.MM.JJJJ oder JJJJ-MM-TT).", 2)
        return default
    try:
        return parse_date(text)
    except ValueError as exc:
        _fail(f"{option}: {exc}", 2)


def _format(fmt: str, allowed: tuple[str, ...]) -> str:
    value = fmt.strip().lower()
    if value not in allowed:
        _fail(f"--format: „{fmt}“ gibt es nicht; möglich sind {', '.join(allowed)}.", 2)
    return value


def _app():
    """The running app (tests, ``flask fachstelle``) or a new one from the environment (the CLI)."""
    from flask import current_app, has_app_context
    if has_app_context():
        return current_app._get_current_object()
    from .cli import _app as make
    return make()


def _run_import(run, file: str, dry_run: bool, actor, **kwargs) -> None:
    """A file import on the command line: ``run(session, path, actor, progress=…, **kwargs)``, all or nothing;
    its line-numbered report on stderr and exit 1 when it fails, else its summary (nothing kept with --dry-run)."""
    from .extensions import db
    from .integrations.pipeline import ImportFailed, terminal_progress
    app = _app()
    with app.app_context():
        try:
            result = run(db.session, Path(file), actor, progress=terminal_progress(), **kwargs)
        except ImportFailed as exc:
            db.session.rollback()
            _fail(exc.report(), 1)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(result.report(dry_run))


def _write(output: str | None, fmt: str, text: str | None = None, xlsx=None) -> None:
    """Text to stdout or a file; XLSX (a callable taking the target) only to a file."""
    if output is None:
        if xlsx is not None:
            _fail("Für --format xlsx bitte mit -o eine Datei angeben.", 2)
        click.echo(text, nl=False)
        return
    path = Path(output)
    try:
        if xlsx is not None:
            xlsx(path)
        else:
            # CSV with a byte-order mark: German Excel then reads the umlauts correctly.
            path.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    except OSError as exc:
        _fail(f"Datei {path} kann nicht geschrieben werden: {exc.strerror or exc}.")
    click.echo(f"Geschrieben: {path}", err=True)


# The CLI is run by the operator on the server: it reports on every unit, said explicitly.
CLI_ACTOR = Actor.system("cli")


def _units(session, names: tuple[str, ...]):
    from .errors import DomainError
    from .services.indicators import find_units, report_units
    try:
        return (find_units(session, names, actor=CLI_ACTOR) if names
                else report_units(session, actor=CLI_ACTOR))
    except DomainError as exc:
        _fail(str(exc), 2)


@click.group("indicators", invoke_without_command=True,
             help="Kennzahlen QS 1.1–1.5 (Prävention) je Bezirk und gesamt; Erhebungsbogen als XLSX.")
@click.option("--from", "date_from", help="Beginn des Berichtszeitraums (TT.MM.JJJJ oder JJJJ-MM-TT)")
@click.option("--to", "date_to", help="Ende des Berichtszeitraums")
@click.option("--as-of", "as_of", help="Stichtag (Vorgabe: heute); nur bis dahin Datiertes zählt")
@click.option("--org-unit", "org_units", multiple=True, help="Kürzel oder Name der Dienststelle (mehrfach möglich)")
@click.option("--format", "fmt", default="json", show_default=True, help="json, csv oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (Vorgabe: Bildschirm; xlsx nur in eine Datei)")
@click.pass_context
def indicators(ctx, date_from, date_to, as_of, org_units, fmt, output):
    if ctx.invoked_subcommand is not None:
        return
    fmt = _format(fmt, REPORT_FORMATS)
    start, end = _date("--from", date_from), _date("--to", date_to)
    seen = _date("--as-of", as_of, default=clock.today())
    from .errors import DomainError
    from .extensions import db
    from .integrations import survey_form
    from .services.indicators import indicator_report
    app = _app()
    with app.app_context():
        units = _units(db.session, org_units)
        try:
            report = indicator_report(db.session, start, end, seen, units, actor=CLI_ACTOR).report
        except DomainError as exc:
            _fail(str(exc), 2)
        survey = survey_form.survey_of(report)
    if fmt == "xlsx":
        created = clock.now()
        _write(output, fmt, xlsx=lambda target: survey_form.write_xlsx(survey, target, created))
    else:
        _write(output, fmt, survey_form.write_json(survey) if fmt == "json" else survey_form.write_csv(survey))


@indicators.command("aggregate", help="Erhebungsbögen der Bezirke (XLSX oder JSON) zum Gesamtbericht "
                                      "zusammenführen: Zähler und Nenner werden addiert.")
@click.argument("files", nargs=-1)
@click.option("--format", "fmt", default="json", show_default=True, help="json oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (xlsx nur in eine Datei)")
def aggregate(files, fmt, output):
    from .integrations import survey_form
    fmt = _format(fmt, AGGREGATE_FORMATS)
    if not files:
        _fail("Bitte mindestens einen Erhebungsbogen (XLSX) angeben.", 2)
    try:
        merged = survey_form.merge([(Path(f), survey_form.read_form(Path(f))) for f in files])
    except survey_form.FormError as exc:
        _fail(str(exc), 2)
    if fmt == "xlsx":
        created = clock.now()
        _write(output, fmt, xlsx=lambda target: survey_form.write_xlsx(merged, target, created))
    else:
        _write(output, fmt, survey_form.write_json(merged))


@click.command("success-measures", help="Erfolgsmessung als XLSX: abgewendete Wohnungsverluste und Leistungen "
                                        "je Produktnummer und Kostenstelle (KLR).")
@click.option("--from", "date_from", help="Beginn des Zeitraums (TT.MM.JJJJ oder JJJJ-MM-TT)")
@click.option("--to", "date_to", help="Ende des Zeitraums")
@click.option("--org-unit", "org_units", multiple=True, help="Kürzel oder Name der Dienststelle (mehrfach möglich)")
@click.option("-o", "--output", default=None, help="Ausgabedatei (.xlsx)")
def success_measures_cmd(date_from, date_to, org_units, output):
    from .domain.periods import range_period
    from .extensions import db
    from .services.success_measures import success_measures, write_xlsx
    start, end = _date("--from", date_from), _date("--to", date_to)
    try:
        period = range_period(start, end)
    except ValueError as exc:
        _fail(str(exc), 2)
    if output is None:
        _fail("Bitte mit -o eine XLSX-Datei angeben.", 2)
    app = _app()
    with app.app_context():
        measures = success_measures(db.session, period, _units(db.session, org_units), CLI_ACTOR)
    created = clock.now()
    _write(output, "xlsx", xlsx=lambda target: write_xlsx(measures, target, created))


def register(main: click.Group) -> None:
    main.add_command(indicators)
    main.add_command(success_measures_cmd)
