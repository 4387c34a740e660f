"""Every file import the upload page (app/web/imports.py) offers, with the command-line twin named.

An importer is a function ``(session, path, file_name, actor, progress) -> report text`` that raises
``ImportFailed`` (nothing written) for a bad file; the caller commits or rolls back (dry run). A new import
adds one line here (docs/architektur.md, "Ein neuer Import").
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ..actor import Actor
from .pipeline import ProgressFn


@dataclass(frozen=True)
class Importer:
    key: str
    label: str  # German, on the upload page
    columns: str  # the expected header, shown as help
    run: Callable[[Session, Path, str, Actor, ProgressFn | None, bool], str]


def _events(session, path, file_name, actor, progress, dry_run) -> str:
    from .events_import import import_events
    return import_events(session, path, actor=actor, progress=progress, file_name=file_name).report(dry_run)


def _streets(session, path, file_name, actor, progress, dry_run) -> str:
    from .streets import import_streets
    text = str(import_streets(session, path, file_name=file_name, progress=progress))
    return f"Probelauf für {file_name}: so würde importiert, gespeichert wurde nichts.\n{text}" if dry_run else text


def _loans(session, path, file_name, actor, progress, dry_run) -> str:
    from .treasury.legacy_loans import EXPECTED, import_loans  # noqa: F401
    return import_loans(session, path, actor, file_name=file_name, progress=progress).report(dry_run)


def _payments(session, path, file_name, actor, progress, dry_run) -> str:
    from .treasury.payments import import_payments
    return import_payments(session, path, actor, file_name=file_name, progress=progress).report(dry_run)


def _shelters(session, path, file_name, actor, progress, dry_run) -> str:
    from .accommodation_import import import_shelters
    return import_shelters(session, path, actor, file_name=file_name, progress=progress).report(dry_run)


def _occupancy(session, path, file_name, actor, progress, dry_run) -> str:
    from .accommodation_import import import_occupancy
    return import_occupancy(session, path, actor, file_name=file_name, progress=progress).report(dry_run)


IMPORTERS = {i.key: i for i in (
    Importer("events", "Ereignisse aus Bezirkslisten (Altbestand)", "fall_id;bezirk;ereignis;datum;zu_zweit",
             _events),
    Importer("streets", "Straßenverzeichnis", "Straße;PLZ;Ort;Ortsteil", _streets),
    # --- loans and the treasury (#13) ---
    Importer("loans", "Darlehen (Altbestand)", "kassenzeichen;person;name;vorname;geburtsdatum;art;rechtsgrundlage;"
             "betrag;ausgezahlt_am;rate;erste_faelligkeit;status;gestundet_von;gestundet_bis;erlassen_betrag;erlassen_am",
             _loans),
    Importer("payments", "Zahlungen der Stadtkasse", "buchungs_id;kassenzeichen;betrag;buchungstag;verwendungszweck",
             _payments),
    # Unterbringung (#12)
    Importer("shelters", "Unterkünfte (Altliste)", "unterkunft;art;anbieter;verband;gemeindeschluessel;plaetze",
             _shelters),
    Importer("occupancy", "Belegung (Altliste)", "haushalt;person;name;vorname;geburtsdatum;geschlecht;"
             "staatsangehoerigkeit;zuwanderungsgeschichte;rolle;unterkunft;platz;einzug;auszug;rechtsgrundlage",
             _occupancy),
)}
