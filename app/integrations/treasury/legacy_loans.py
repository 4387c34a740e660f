"""Legacy loans from a list (``fachstelle import-loans FILE.csv``, #13 §4).

Columns (semicolon, amounts with decimal comma, dates TT.MM.JJJJ):
``kassenzeichen;person;name;vorname;geburtsdatum;art;rechtsgrundlage;betrag;ausgezahlt_am;rate;erste_faelligkeit;
status;gestundet_von;gestundet_bis;erlassen_betrag;erlassen_am``

1. Every row is checked first (all or nothing, line-numbered German errors): ``art`` darlehen or beihilfe (a grant
   has no rate — empty or 0 — and no first due date; a loan needs both), ``rechtsgrundlage`` sgb2_22_8 or sgb12_36,
   ``status`` laufend, gestundet, niedergeschlagen or erlassen (with their dates and amounts).
2. Idempotent by Kassenzeichen: a loan whose Kassenzeichen is known already is skipped.
3. The partner is reused when one with the same name and birth date exists (the duplicate check of the partner
   form, its best match with the same birth date), else created; rows of the same ``person`` share one partner.
   A case (file number "ALT-<Kassenzeichen>") and the loan with its history (approval, payout, plan, deferral,
   write-off, waiver) are created; the treasury postings count as delivered already (the treasury knows them).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...actor import Actor
from ...core_models import OrgUnit
from ...domain import kassenzeichen as kz
from ...domain import loans as rules
from ...domain.dates import parse_date
from ...domain.money import parse_decimal
from ...metamodel.build_models import built_registry
from ...services import loans as loan_service
from ...services.history import acting_as
from ...services.kassenzeichen import owner, register
from ...services.partners import find_duplicates
from ...services.seed import catalogue_value
from ...services.treasury_postings import add_posting
from ...treasury_models import LoanBooking, LoanEvent
from ..pipeline import (DUPLICATE, Collector, Column, CsvFile, ImportFailed, Invalid, ProgressFn, map_columns,
                        parse_rows)

EXPECTED = ("kassenzeichen;person;name;vorname;geburtsdatum;art;rechtsgrundlage;betrag;ausgezahlt_am;rate;"
            "erste_faelligkeit;status;gestundet_von;gestundet_bis;erlassen_betrag;erlassen_am")
STATUSES = ("laufend", "gestundet", "niedergeschlagen", "erlassen")


def _text(required: bool, label: str):
    def parse(text: str):
        if required and not text:
            raise Invalid(f"{label} fehlt.")
        return text or None
    return parse


def _choice(values, label: str):
    def parse(text: str):
        if text.lower() not in values:
            raise Invalid(f"{label} „{text}“ unbekannt (erlaubt: {', '.join(values)}).")
        return text.lower()
    return parse


def _day(required: bool, label: str):
    def parse(text: str):
        if not text:
            if required:
                raise Invalid(f"{label} fehlt (TT.MM.JJJJ).")
            return None
        try:
            return parse_date(text, two_digit_years=False)
        except ValueError as exc:
            raise Invalid(f"{label}: {exc}") from None
    return parse


def _amount(required: bool, label: str):
    def parse(text: str):
        if not text:
            if required:
                raise Invalid(f"{label} fehlt.")
            return None
        try:
            value = parse_decimal(text, places=2)
        except ValueError as exc:
            raise Invalid(f"{label}: {exc}") from None
        if value < 0:
            raise Invalid(f"{label}: darf nicht negativ sein.")
        return value
    return parse


COLUMNS = [
    Column("kassenzeichen", "kassenzeichen", parse=_text(True, "kassenzeichen")),
    Column("person", "person", parse=_text(False, "person")),
    Column("name", "name", parse=_text(True, "name")),
    Column("vorname", "vorname", parse=_text(False, "vorname")),
    Column("geburtsdatum", "geburtsdatum", parse=_day(False, "geburtsdatum")),
    Column("art", "art", parse=_choice((rules.DARLEHEN, rules.BEIHILFE), "art")),
    Column("rechtsgrundlage", "rechtsgrundlage", parse=_choice(tuple(rules.LEGAL_BASES), "rechtsgrundlage")),
    Column("betrag", "betrag", parse=_amount(True, "betrag")),
    Column("ausgezahlt_am", "ausgezahlt_am", parse=_day(True, "ausgezahlt_am")),
    Column("rate", "rate", parse=_amount(False, "rate")),
    Column("erste_faelligkeit", "erste_faelligkeit", parse=_day(False, "erste_faelligkeit")),
    Column("status", "status", parse=_choice(STATUSES, "status")),
    Column("gestundet_von", "gestundet_von", parse=_day(False, "gestundet_von")),
    Column("gestundet_bis", "gestundet_bis", parse=_day(False, "gestundet_bis")),
    Column("erlassen_betrag", "erlassen_betrag", parse=_amount(False, "erlassen_betrag")),
    Column("erlassen_am", "erlassen_am", parse=_day(False, "erlassen_am")),
]


def _check(values: dict, texts: dict) -> list[tuple[str, str]]:
    found = []
    if values.get("betrag") is not None and values["betrag"] <= 0:
        found.append(("betrag", "betrag: muss größer als 0,00 € sein."))
    if values.get("art") == rules.BEIHILFE:
        if values.get("rate"):
            found.append(("rate", "rate: eine Beihilfe hat keine Rate (leer oder 0)."))
        if values.get("erste_faelligkeit"):
            found.append(("erste_faelligkeit", "erste_faelligkeit: eine Beihilfe hat keine Fälligkeit."))
    elif values.get("art") == rules.DARLEHEN:
        if not values.get("rate"):
            found.append(("rate", "rate: ein Darlehen braucht eine Rate größer als 0,00 €."))
        if not values.get("erste_faelligkeit"):
            found.append(("erste_faelligkeit", "erste_faelligkeit fehlt (TT.MM.JJJJ)."))
    status = values.get("status")
    if status == "gestundet":
        start, end = values.get("gestundet_von"), values.get("gestundet_bis")
        if not start or not end:
            found.append(("gestundet_von", "gestundet: gestundet_von und gestundet_bis angeben."))
        elif end < start:
            found.append(("gestundet_bis", f"gestundet_bis ({end:%d.%m.%Y}) liegt vor gestundet_von ({start:%d.%m.%Y})."))
    if status == "erlassen":
        if not values.get("erlassen_betrag") or not values.get("erlassen_am"):
            found.append(("erlassen_betrag", "erlassen: erlassen_betrag und erlassen_am angeben."))
        elif values.get("betrag") is not None and values["erlassen_betrag"] > values["betrag"]:
            found.append(("erlassen_betrag", "erlassen_betrag: höher als der Betrag."))
    if status in ("gestundet", "niedergeschlagen", "erlassen") and values.get("art") == rules.BEIHILFE:
        found.append(("status", f"status: eine Beihilfe kann nicht {status} sein."))
    return found


@dataclass
class LegacyResult:
    file_name: str
    created: int = 0
    skipped: int = 0
    partners_created: int = 0
    partners_reused: int = 0

    def report(self, dry_run: bool = False) -> str:
        head = f"Probelauf für {self.file_name}: so würde importiert, gespeichert wurde nichts.\n" if dry_run else ""
        return head + (f"{self.file_name}: {self.created} Darlehen angelegt, {self.skipped} schon vorhanden "
                       f"(Kassenzeichen bekannt) übersprungen; Personen: {self.partners_created} neu, "
                       f"{self.partners_reused} vorhandene verwendet.")


def import_loans(session: Session, source: Path | bytes, actor: Actor, file_name: str | None = None,
                 org_unit: str | None = None, progress: ProgressFn | None = None) -> LegacyResult:
    name = file_name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "Darlehen.csv")
    csv_file = CsvFile.open(source, name)
    index = map_columns(csv_file, COLUMNS, EXPECTED)
    problems = Collector(name)
    rows = list(parse_rows(csv_file, COLUMNS, index, problems, progress, check=_check))
    seen: dict[str, int] = {}
    for line, values in rows:
        number = kz.normalise(values["kassenzeichen"])
        if number in seen:
            problems.add(DUPLICATE, f"kassenzeichen „{values['kassenzeichen']}“ steht schon in Zeile {seen[number]}.",
                         line, "kassenzeichen")
        seen.setdefault(number, line)
    problems.raise_if_any()
    unit = _unit(session, org_unit, name)
    result = LegacyResult(name)
    registry = built_registry()
    partner_model, case_model, loan_model = (registry.model(n) for n in ("partner", "case", "loan"))
    values_of = {c: {code: catalogue_value(session, c, code) for code in codes} for c, codes in (
        ("loan_kind", (rules.DARLEHEN, rules.BEIHILFE)), ("loan_legal_basis", tuple(rules.LEGAL_BASES)),
        ("loan_state", (rules.AUSGEZAHLT, rules.TILGUNG)))}
    person_kind = catalogue_value(session, "partner_kind", "person")
    case_open = catalogue_value(session, "case_status", "open")
    by_person: dict[str, int] = {}
    with acting_as(actor):
        for line, values in rows:
            number = kz.normalise(values["kassenzeichen"])
            if owner(session, number) is not None:
                result.skipped += 1
                continue
            partner_id = by_person.get(values["person"]) if values["person"] else None
            if partner_id is None:
                partner_id = _reuse_partner(session, values, actor)
                if partner_id is None:
                    partner = partner_model(surname=values["name"], first_name=values["vorname"],
                                            birth_date=values["geburtsdatum"], kind_id=person_kind.id,
                                            org_unit_id=unit.id)
                    session.add(partner)
                    session.flush()
                    partner_id = partner.id
                    result.partners_created += 1
                else:
                    result.partners_reused += 1
                if values["person"]:
                    by_person[values["person"]] = partner_id
            case = case_model(client_id=partner_id, opened_on=values["ausgezahlt_am"], status_id=case_open.id,
                              file_number=f"ALT-{number}"[:30], org_unit_id=unit.id,
                              external_ref=(values["person"] or None))
            session.add(case)
            session.flush()
            _loan(session, actor, loan_model, case, partner_id, number, values, values_of, unit)
            result.created += 1
    return result


def _unit(session: Session, code: str | None, file_name: str) -> OrgUnit:
    query = select(OrgUnit).order_by(OrgUnit.id)
    if code:
        query = select(OrgUnit).where(OrgUnit.code == code)
    unit = session.scalars(query).first()
    if unit is None:
        raise ImportFailed(file_name, [], listed=False,
                           heading=f"{file_name}: Dienststelle „{code or '(keine)'}“ unbekannt. Nichts importiert.")
    return unit


def _reuse_partner(session: Session, values: dict, actor: Actor) -> int | None:
    if not values["geburtsdatum"]:
        return None
    for found in find_duplicates(session, values["name"], values["vorname"], values["geburtsdatum"], actor=actor):
        if found.partner.birth_date == values["geburtsdatum"]:
            return found.partner.id
    return None


def _loan(session: Session, actor: Actor, model, case, partner_id: int, number: str, values: dict, values_of: dict,
          unit: OrgUnit):
    darlehen = values["art"] == rules.DARLEHEN
    paid_out = values["ausgezahlt_am"]
    state = rules.TILGUNG if darlehen else rules.AUSGEZAHLT
    loan = model(case_id=case.id, kassenzeichen=number, kind_id=values_of["loan_kind"][values["art"]].id,
                 legal_basis_id=values_of["loan_legal_basis"][values["rechtsgrundlage"]].id, applied_on=paid_out,
                 borrower_id=partner_id, amount_rent=values["betrag"], amount=values["betrag"],
                 rate=values["rate"] if darlehen else None, first_due=values["erste_faelligkeit"],
                 state_id=values_of["loan_state"][state].id, decided_on=paid_out, org_unit_id=unit.id,
                 info="Altbestand (Liste): Betrag nicht nach Zweck aufgeteilt")
    session.add(loan)
    session.flush()
    register(session, actor, number, loan_service.ENTITY, loan.id, unit.id)
    name, first = values["name"], values["vorname"]
    common = dict(kassenzeichen=number, name=name, vorname=first, source_kind=loan_service.ENTITY, source_id=loan.id,
                  org_unit_id=unit.id, delivered=True)
    session.add_all([LoanEvent(loan_id=loan.id, kind="bewilligung", day=paid_out, amount=values["betrag"],
                               note="Altbestand", created_by=actor.name),
                     LoanEvent(loan_id=loan.id, kind="auszahlung", day=paid_out, amount=values["betrag"],
                               created_by=actor.name)])
    add_posting(session, actor, faellig_am=paid_out, betrag=values["betrag"], art="auszahlung",
                buchungstext="Altbestand", **common)
    if darlehen:
        plan = rules.instalment_plan(values["betrag"], values["rate"], values["erste_faelligkeit"])
        session.add(LoanEvent(loan_id=loan.id, kind="plan", day=paid_out, amount=values["rate"],
                              date_from=values["erste_faelligkeit"], note=f"{len(plan.instalments)} Raten (Altbestand)",
                              created_by=actor.name))
        for item in plan.instalments:
            add_posting(session, actor, faellig_am=item.due, betrag=item.amount, art="soll",
                        buchungstext=f"Darlehen Rate {item.number}/{len(plan.instalments)} (Altbestand)", **common)
    status = values["status"]
    if status == "gestundet":
        session.add(LoanEvent(loan_id=loan.id, kind="stundung", day=values["gestundet_von"],
                              date_from=values["gestundet_von"], date_to=values["gestundet_bis"], note="Altbestand",
                              created_by=actor.name))
    elif status == "niedergeschlagen":
        # The list has no date for it: it counts from the payout (the status the list gives is the current one).
        session.add(LoanEvent(loan_id=loan.id, kind="niederschlagung", day=paid_out,
                              note="Altbestand (unbefristet; Datum unbekannt, ab Auszahlung gezählt)",
                              created_by=actor.name))
    elif status == "erlassen":
        day = values["erlassen_am"]
        session.add(LoanEvent(loan_id=loan.id, kind="erlass", day=day, amount=values["erlassen_betrag"],
                              note="Altbestand", created_by=actor.name))
        session.add(LoanBooking(loan_id=loan.id, day=day, kind=rules.ERLASS, amount=values["erlassen_betrag"],
                                text="Erlass (Altbestand)", created_by=actor.name))
        add_posting(session, actor, faellig_am=day, betrag=values["erlassen_betrag"], art="sollabgang",
                    buchungstext="Erlass (Altbestand)", **common)
    return loan

