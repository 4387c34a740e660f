"""Letter templates and their versions: seed the shipped ones, add uploaded ones, find the one to use.

1. A version is never changed; a new upload is a new version, checked before it is stored.
2. Letters use the newest version of an active template; old letters keep the version they were made with.
3. Seeding adds missing shipped templates, and a changed shipped file becomes a new version only as long as
   no admin has uploaded an own version of that template (their text wins over ours).
"""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import settings
from ..errors import DomainError
from .models import LetterTemplate, LetterTemplateVersion
from .render import TemplateProblem, template_problems
from .storage import read_verified, sha256_of, store

SHIPPED_DIR = settings.ROOT / "letter_templates"
SYSTEM = "system"
SHIPPED: dict[str, tuple[str, str]] = {
    "einladung_raeumungsklage": (
        "Räumungsklage: Einladung zu einem Gespräch (QS 1.1)",
        "Standardanschreiben nach Eingang der Mitteilung des Amtsgerichts über eine Räumungsklage, mit "
        "einem festen Gesprächstermin (Qualitätsstandard 1.1)."),
    "anschreiben_zwangsraeumung": (
        "Zwangsräumung: Angebot eines kurzfristigen Gesprächs (QS 1.3)",
        "Standardanschreiben nach der Mitteilung der Gerichtsvollzieherin/des Gerichtsvollziehers über die "
        "Zwangsräumung, mit dem Angebot eines kurzfristigen Gesprächs in der offenen Sprechstunde "
        "(Qualitätsstandard 1.3)."),
    "einladung_allgemein": ("Einladung zu einem Gespräch", "Allgemeine Einladung mit Termin."),
    "hilfeplan": ("Hilfeplan zur Unterschrift",
                  "Hilfeplan mit Zielen und Maßnahmen (Soziale Betreuung), zur Unterschrift der Klientin / des Klienten."),
    "bescheid": ("Bescheid (Grundgerüst)",
                 "Bescheid mit Entscheidung, Begründung und der Rechtsbehelfsbelehrung der Dienststelle."),
    "gebuehrenbescheid": ("Gebührenbescheid Unterbringung",
                          "Gebührenbescheid bei Einzug, Umzug, Tarifänderung und Auszug: Berechnung, Zeitraum, "
                          "Fälligkeiten, Kassenzeichen, Bankverbindung und Rechtsbehelfsbelehrung (#12)."),
    # --- Darlehen (#13) ---
    "darlehen_bewilligung": ("Darlehen: Bewilligungsbescheid", "Bewilligung der Übernahme von Miet- oder "
                             "Energieschulden als Darlehen oder Beihilfe, mit Zahlungsempfänger und Tilgung."),
    "darlehen_stundung": ("Darlehen: Stundung", "Stundung der Raten bis zu einem Datum, jederzeit widerruflich."),
    "darlehen_niederschlagung": ("Darlehen: Niederschlagung (Mitteilung)", "Mitteilung, dass die Forderung vorerst "
                                 "nicht eingezogen wird; sie bleibt bestehen."),
    "darlehen_erlass": ("Darlehen: Erlass", "Erlass des offenen Restbetrags (§ 44 SGB II)."),
}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class LetterError(DomainError):
    """A letter or template action is not possible; the message is German."""


def template_by_code(session: Session, code: str) -> LetterTemplate | None:
    return session.scalars(select(LetterTemplate).where(LetterTemplate.code == code)).first()


def newest_version(session: Session, code: str) -> LetterTemplateVersion:
    """The version letters use now: the newest of the active template ``code``."""
    template = template_by_code(session, code)
    if template is None:
        raise LetterError(f"Briefvorlage „{code}“ gibt es nicht.")
    if not template.active:
        raise LetterError(f"Briefvorlage „{template.label}“ ist nicht mehr aktiv.")
    version = session.scalars(select(LetterTemplateVersion).where(LetterTemplateVersion.template_id == template.id)
                              .order_by(LetterTemplateVersion.version.desc())).first()
    if version is None:
        raise LetterError(f"Briefvorlage „{template.label}“ hat noch keine Version.")
    return version


def version_bytes(version: LetterTemplateVersion) -> bytes:
    return read_verified(version.path, version.sha256)


def add_version(session: Session, template: LetterTemplate, data: bytes, *, uploaded_by: str,
                note: str | None = None, checked: bool = False) -> LetterTemplateVersion:
    """Store ``data`` as the next version of ``template``. Raises TemplateProblem (German) if it is unusable."""
    if not checked:
        problems = template_problems(data)
        if problems:
            raise TemplateProblem(problems)
    if template.id is None:
        session.add(template)
        session.flush()
    number = (session.scalar(select(func.max(LetterTemplateVersion.version))
                             .where(LetterTemplateVersion.template_id == template.id)) or 0) + 1
    stored = store(session, f"letter_templates/{template.code}", ".docx", data)
    version = LetterTemplateVersion(template=template, version=number, sha256=stored.sha256, size=stored.size,
                                    path=stored.path, uploaded_by=uploaded_by, note=(note or "").strip() or None)
    session.add(version)
    session.flush()
    return version


def create_template(session: Session, code: str, label: str, data: bytes, *, uploaded_by: str,
                    description: str | None = None, note: str | None = None) -> LetterTemplate:
    code = (code or "").strip()
    if not CODE.match(code):
        raise LetterError("Kürzel: 2–64 Kleinbuchstaben, Ziffern oder „_“, beginnend mit einem Buchstaben.")
    if template_by_code(session, code) is not None:
        raise LetterError(f"Eine Briefvorlage mit dem Kürzel „{code}“ gibt es schon.")
    if not (label or "").strip():
        raise LetterError("Bezeichnung: Pflichtfeld, bitte ausfüllen.")
    template = LetterTemplate(code=code, label=label.strip()[:200], description=description, active=True)
    add_version(session, template, data, uploaded_by=uploaded_by, note=note)
    return template


def restore_version(session: Session, version: LetterTemplateVersion, *, uploaded_by: str) -> LetterTemplateVersion:
    """Use an older text again: it becomes the newest version (the history stays as it was)."""
    data = version_bytes(version)
    return add_version(session, version.template, data, uploaded_by=uploaded_by,
                       note=f"wiederhergestellt aus Version {version.version}")


def seed_letter_templates(session: Session, directory: Path | None = None) -> int:
    """Add the shipped templates (letter_templates/*.docx); safe to call on every init. Returns versions added."""
    directory = Path(directory or SHIPPED_DIR)
    added = 0
    for code, (label, description) in SHIPPED.items():
        path = directory / f"{code}.docx"
        if not path.exists():
            continue
        data = path.read_bytes()
        template = template_by_code(session, code)
        if template is None:
            template = LetterTemplate(code=code, label=label, description=description, active=True)
        elif any(v.sha256 == sha256_of(data) for v in template.versions) or \
                any(v.uploaded_by != SYSTEM for v in template.versions):
            continue
        add_version(session, template, data, uploaded_by=SYSTEM, note="mitgeliefert")
        added += 1
    session.flush()
    return added
