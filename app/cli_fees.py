"""``fachstelle fees``: the monthly fee run of the shelters (#12 §4) and the tariff catalogue.

    fachstelle fees run --month 2025-06 [--dry-run] [--format json|text]
    fachstelle fees tariffs [--load]
    fachstelle fees tariff-notices --from TT.MM.JJJJ [--user NAME] [--dry-run]

``run`` prints exactly ``{"monat": "2025-06", "neu": n, "summe": "…", "unterkuenfte": {"<Unterkunft>": "…"}}``
(amounts as strings with a decimal point); the debits go to the treasury postings that
``fachstelle treasury export`` delivers. Bad input is one German line on stderr and exit code 2.
"""
from __future__ import annotations

import json
import sys

import click

from .actor import Actor

CLI_ACTOR = Actor.system("gebuehrenlauf")


def _fail(message: str, code: int = 2):
    click.echo(message, err=True)
    sys.exit(code)


def _app():
    from flask import current_app, has_app_context
    if has_app_context():
        return current_app._get_current_object()
    from .cli import _app as make
    return make()


@click.group("fees", help="Unterkunftsgebühren: Monatslauf (Gebührensollstellungen) und Tarife.")
def fees():
    pass


def _text(result) -> str:
    from .domain.money import format_money
    head = f"Gebührenlauf {result.monat}{' (Probelauf, nichts gespeichert)' if result.dry_run else ''}"
    out = [head, f"neue Zeilen: {result.neu}" + (f" (davon Storno: {len(result.reversed)})" if result.reversed else ""),
           f"Summe des Monats: {format_money(result.summe)}"]
    for name, amount in sorted(result.unterkuenfte.items()):
        out.append(f"  {name}: {format_money(amount)}")
    if not result.dry_run:
        out.append(f"Kassenbuchungen: {result.postings} Sollstellungen, {result.payouts} Auszahlungsanordnungen")
    return "\n".join(out) + "\n"


@fees.command("run", help="Gebühren eines Monats für die ganze Stadt berechnen und als Sollstellungen je "
                          "Zahlungspflichtigem an die Kasse geben; ein zweiter Lauf ändert nichts.")
@click.option("--month", "month", required=True, help="Monat JJJJ-MM, z. B. 2025-06")
@click.option("--dry-run", is_flag=True, help="Nur rechnen und zeigen, nichts speichern")
@click.option("--format", "fmt", default="json", show_default=True, help="json oder text")
def run_cmd(month, dry_run, fmt):
    fmt = fmt.strip().lower()
    if fmt not in ("json", "text"):
        _fail(f"--format: „{fmt}“ gibt es nicht; möglich sind json, text.")
    from .errors import DomainError
    from .extensions import db
    from .services.fees import run_month
    app = _app()
    with app.app_context():
        try:
            result = run_month(db.session, CLI_ACTOR, month, dry_run=dry_run)
        except (DomainError, ValueError) as exc:  # ValueError: e.g. the Kassenzeichen range is exhausted
            db.session.rollback()
            _fail(str(exc))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(json.dumps(result.as_json(), ensure_ascii=False) if fmt == "json" else _text(result), nl=fmt == "json")


@fees.command("tariffs", help="Gebührentarife zeigen; mit --load fehlende Tarife aus fees.yaml übernehmen.")
@click.option("--load", is_flag=True, help="Tarife aus config/fees.yaml (bzw. der Stadt) übernehmen, die fehlen")
def tariffs_cmd(load):
    from .domain.money import format_money
    from .errors import DomainError
    from .extensions import db
    from .services.fees import catalogue, seed_fee_tariffs
    app = _app()
    with app.app_context():
        try:
            if load:
                added = seed_fee_tariffs(db.session)
                db.session.commit()
                click.echo(f"{added} Tarif(e) übernommen.", err=True)
            cat = catalogue(db.session)
        except DomainError as exc:
            db.session.rollback()
            _fail(str(exc))
    for t in cat.tariffs:
        until = f" bis {t.valid_to:%d.%m.%Y}" if t.valid_to else ""
        click.echo(f"{t.code}: {t.label} (ab {t.valid_from:%d.%m.%Y}{until}; {t.part_month}, {t.counted_days})")
        scope = "; ".join(", ".join(sorted(x)) for x in (t.legal_bases, t.provider_types, t.shelters) if x)
        click.echo(f"  gilt für: {scope or 'alle Belegungen'}")
        for c in t.components:
            click.echo(f"  {c.label}: {format_money(c.amount)} {c.basis}/{c.unit} Sachkonto {c.sachkonto or '-'}")


@fees.command("tariff-notices", help="Bescheide zur Tarifänderung erzeugen: jeder Haushalt, für den ab DATUM ein "
                                     "anderer Tarif gilt als am Vortag, erhält einen Gebührenbescheid (einmal).")
@click.option("--from", "day", required=True, help="Tag, ab dem der neue Tarif gilt (TT.MM.JJJJ)")
@click.option("--user", "username", default="admin", show_default=True, help="Benutzerkonto, das die Briefe erstellt")
@click.option("--dry-run", is_flag=True, help="Nur zählen, keine Briefe erzeugen")
def tariff_notices_cmd(day, username, dry_run):
    from .domain.periods import parse_date
    from .errors import DomainError
    from .extensions import db
    from .letters.check import TemplateProblem
    from .services.fee_notice import tariff_change_notices
    try:
        on = parse_date(day)
    except ValueError as exc:
        _fail(f"--from: {exc}")
    app = _app()
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        if user is None:
            _fail(f"--user: das Benutzerkonto „{username}“ gibt es nicht.")
        try:
            result = tariff_change_notices(db.session, Actor.system(username), user, on, dry_run=dry_run)
        except (DomainError, TemplateProblem) as exc:
            db.session.rollback()
            _fail("\n".join(getattr(exc, "lines", None) or [str(exc)]))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    result.pop("briefe")
    click.echo(json.dumps(result, ensure_ascii=False))


def register(main: click.Group) -> None:
    main.add_command(fees)
