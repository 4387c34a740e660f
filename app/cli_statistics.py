"""``fachstelle statistics``: the official housing statistics (#14).

    fachstelle statistics nrw --stichtag 30.06.2025 --format json|xlsx [-o FILE] [--freeze]
    fachstelle statistics bund --stichtag 31.01.2026 --format csv|xlsx [-o FILE] [--freeze]

The CLI reports on every org unit (``Actor.system``). The plausibility report goes to stderr in German;
nothing is dropped from the figures or records. ``--freeze`` also stores the result as the next version of
the Stichtag's snapshot (see the page Statistik → Amtliche Statistik). Bad input is one German line on stderr.
"""
from __future__ import annotations

import click

from . import clock
from .cli_indicators import _app, _date, _fail, _format, _write
from .actor import Actor

CLI_ACTOR = Actor.system("cli")


def _key(app) -> bytes:
    from .services.housing_stats import pseudonym_key
    return pseudonym_key(app.config["SECRET_KEY"])


def _report_problems(problems) -> None:
    for p in problems:
        click.echo(f"Hinweis: {p.text}", err=True)


@click.group("statistics", help="Amtliche Statistik: NRW-Wohnungsnotfallstatistik (30.06.) und Bundesstatistik "
                                "untergebrachter wohnungsloser Personen nach WoBerichtsG (31.01.).")
def statistics():
    pass


@statistics.command("nrw", help="NRW-Erhebungsbogen (kommunal und ordnungsrechtlich untergebracht) zum 30.06.")
@click.option("--stichtag", required=True, help="Stichtag, z. B. 30.06.2025")
@click.option("--format", "fmt", default="json", show_default=True, help="json oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (xlsx nur in eine Datei)")
@click.option("--freeze", is_flag=True, help="zusätzlich als neue Version des Stichtags einfrieren")
def nrw_cmd(stichtag, fmt, output, freeze):
    from .errors import DomainError
    from .extensions import db
    from .integrations import housing_stats_files as files
    from .services import housing_stats as svc
    fmt = _format(fmt, ("json", "xlsx"))
    day = _date("--stichtag", stichtag)
    app = _app()
    with app.app_context():
        try:
            result = svc.nrw(db.session, day, actor=CLI_ACTOR)
            if freeze:
                snap = svc.freeze(db.session, "nrw", day, _key(app), actor=CLI_ACTOR)
                db.session.commit()
                click.echo(f"Eingefroren als Version {snap.version}.", err=True)
        except DomainError as exc:
            _fail(str(exc), 2)
        body = _city()
    _report_problems(result.warnings)
    if fmt == "xlsx":
        created = clock.now()
        _write(output, fmt, xlsx=lambda target: files.write_nrw_xlsx(result.report, target, created, body))
    else:
        _write(output, fmt, files.write_nrw_json(result.report))


@statistics.command("bund", help="Einzeldatensätze je Person zum 31.01. (WoBerichtsG §§ 3–5), mit Plausibilitätsprüfung.")
@click.option("--stichtag", required=True, help="Stichtag, z. B. 31.01.2026")
@click.option("--format", "fmt", default="csv", show_default=True, help="csv oder xlsx")
@click.option("-o", "--output", default=None, help="Ausgabedatei (xlsx nur in eine Datei)")
@click.option("--freeze", is_flag=True, help="zusätzlich als neue Version des Stichtags einfrieren")
def bund_cmd(stichtag, fmt, output, freeze):
    from .errors import DomainError
    from .extensions import db
    from .integrations import housing_stats_files as files
    from .services import housing_stats as svc
    fmt = _format(fmt, ("csv", "xlsx"))
    day = _date("--stichtag", stichtag)
    app = _app()
    with app.app_context():
        try:
            result = svc.bund(db.session, day, _key(app), actor=CLI_ACTOR)
            if freeze:
                snap = svc.freeze(db.session, "bund", day, _key(app), actor=CLI_ACTOR)
                db.session.commit()
                click.echo(f"Eingefroren als Version {snap.version}.", err=True)
        except DomainError as exc:
            _fail(str(exc), 2)
        due = svc.deadline(day)
    _report_problems(result.problems)
    click.echo(f"{len(result.rows)} Datensätze; Lieferfrist (30 Arbeitstage nach dem Stichtag): {due:%d.%m.%Y}.",
               err=True)
    if fmt == "xlsx":
        _write(output, fmt, xlsx=lambda target: files.write_bund_xlsx(result.rows, target, result.problems))
    else:
        # UTF-8 without byte-order mark: the delivery format, not a file for Excel
        text = files.write_bund_csv(result.rows)
        if output is None:
            click.echo(text, nl=False)
        else:
            from pathlib import Path
            try:
                Path(output).write_text(text, encoding="utf-8", newline="")
            except OSError as exc:
                _fail(f"Datei {output} kann nicht geschrieben werden: {exc.strerror or exc}.")
            click.echo(f"Geschrieben: {output}", err=True)


def _city() -> str:
    from .metamodel.build_models import built_registry
    return built_registry().spec.settings.city_name


def register(main: click.Group) -> None:
    main.add_command(statistics)
