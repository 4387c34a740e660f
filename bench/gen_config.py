"""Generate a valid configuration with N entities (default 40) for the start-up benchmark.

It keeps the shipped catalogues, core entities, roles and settings and adds entities of the kind later
issues bring (loans, fees, shelters, appointments …): case-file pages with a reference to the case,
and stand-alone registers with their own menu, using every field type.

    python -m bench.gen_config /tmp/bench/config40 --entities 40
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# (name, German label, plural, parent) — the later areas of the design, as a consultant would add them.
EXTRA = [
    ("loan", "Darlehen", "Darlehen", "case"), ("grant", "Beihilfe", "Beihilfen", "case"),
    ("debit", "Sollstellung", "Sollstellungen", "case"), ("deferral", "Stundung", "Stundungen", "case"),
    ("instalment_plan", "Ratenzahlung", "Ratenzahlungen", "case"),
    ("write_off", "Niederschlagung", "Niederschlagungen", "case"), ("waiver", "Erlass", "Erlasse", "case"),
    ("follow_up", "Wiedervorlage", "Wiedervorlagen", "case"), ("appointment", "Termin", "Termine", "case"),
    ("task", "Aufgabe", "Aufgaben", "case"), ("home_visit", "Hausbesuch", "Hausbesuche", "case"),
    ("doc_entry", "Doku-Eintrag", "Falldokumentation", "case"),
    ("eviction_lawsuit", "Räumungsklage", "Räumungsklagen", "case"),
    ("forced_eviction", "Zwangsräumung", "Zwangsräumungen", "case"),
    ("notice_of_decision", "Bescheid", "Bescheide", "case"),
    ("measurement_point", "Messpunkt", "Messpunkte", "case"), ("service", "Leistung", "Leistungen", "case"),
    ("occupancy", "Belegung", "Belegungen", "case"), ("fee_subscription", "Leistungsabo", "Leistungsabos", "case"),
    ("account", "Konto", "Konten", "case"), ("treasury_ref", "Kassenzeichen", "Kassenzeichen", "case"),
    ("shelter", "Unterkunft", "Unterkünfte", None), ("shelter_room", "Zimmer", "Zimmer", "shelter"),
    ("provider", "Erbringer", "Erbringer", None), ("quality_standard", "Qualitätsstandard", "Qualitätsstandards", None),
    ("landlord_contract", "Vermietervertrag", "Vermieterverträge", None),
    ("court_date", "Gerichtstermin", "Gerichtstermine", "case"),
    ("energy_debt", "Energieschuld", "Energieschulden", "case"),
    ("rent_payment", "Mietzahlung", "Mietzahlungen", "case"),
    ("counselling", "Beratung", "Beratungen", "case"), ("referral", "Vermittlung", "Vermittlungen", "case"),
    ("document", "Dokument", "Dokumente", "case"), ("statistic_mark", "Statistikmerkmal", "Statistikmerkmale", "case"),
]

FIELD_KINDS = [
    {"type": "date", "label": "Datum", "show_in_list": True, "required": True},
    {"type": "string", "length": 80, "label": "Bezeichnung", "show_in_list": True, "show_in_search": True},
    {"type": "money", "label": "Betrag", "show_in_list": True, "min": "0"},
    {"type": "choice", "catalogue": "case_result", "label": "Ergebnis", "show_in_list": True},
    {"type": "text", "label": "Bemerkung"},
    {"type": "boolean", "label": "erledigt"},
    {"type": "integer", "label": "Anzahl", "min": 0},
    {"type": "datetime", "label": "erfasst am"},
    {"type": "ref", "ref": "partner", "label": "Beteiligter Partner"},
    {"type": "multichoice", "catalogue": "other_issues", "label": "Merkmale"},
    {"type": "decimal", "label": "Anteil"},
    {"type": "string", "length": 30, "label": "Zeichen", "indexed": True},
    {"type": "date", "label": "Frist"},
    {"type": "choice", "catalogue": "legal_basis", "label": "Rechtsgrundlage"},
]


def _entity(index: int, name: str, label: str, plural: str, parent: str | None) -> dict:
    fields = []
    if parent:
        fields.append({"name": parent, "type": "ref", "ref": parent, "label": "Gehört zu", "required": True})
    count = 8 + index % 7  # 8 to 14 fields, every kind used
    for k in range(count):
        kind = dict(FIELD_KINDS[(index + k) % len(FIELD_KINDS)])
        kind["name"] = f"f{k}_{kind['type']}"
        kind["label"] = f"{kind['label']} {k + 1}"
        fields.append(kind)
    first_string = next((f["name"] for f in fields if f["type"] == "string"), None)
    entity = {"name": name, "label": label, "label_plural": plural, "fields": fields}
    if parent:
        entity["parent"] = parent
    else:
        entity["menu"] = "Register"
        entity["icon"] = "fa-table"
    if first_string:
        entity["title_fields"] = [first_string]
    half = len(fields) // 2
    names = [f["name"] for f in fields if f["type"] != "ref" or f["name"] != parent]
    entity["pages"] = [{"name": "main", "label": "Angaben", "fields": names[:half]},
                       {"name": "more", "label": "Weiteres", "fields": names[half:]}]
    return entity


def generate(target: Path, entities: int = 40, source: Path | None = None) -> Path:
    """Write entities.yaml, roles.yaml and settings.yaml with ``entities`` entities into ``target``."""
    source = source or ROOT / "config"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("roles.yaml", "settings.yaml"):
        shutil.copyfile(source / name, target / name)
    config = yaml.safe_load((source / "entities.yaml").read_text(encoding="utf-8"))
    shipped = config["entities"]
    missing = entities - len(shipped)
    if missing > len(EXTRA):
        raise ValueError(f"höchstens {len(shipped) + len(EXTRA)} Seiten möglich")
    taken = {e["name"] for e in shipped}
    extra = [e for e in EXTRA if e[0] not in taken][:max(missing, 0)]
    made = [_entity(i, *spec) for i, spec in enumerate(extra)]
    children: dict[str, list[str]] = {}
    for entity in made:
        if entity.get("parent"):
            children.setdefault(entity["parent"], []).append(entity["name"])
    for entity in shipped + made:
        if entity["name"] in children:
            entity["related"] = [*entity.get("related", []), *children[entity["name"]]]
    config["entities"] = shipped + made
    (target / "entities.yaml").write_text(
        "# Generiert von bench/gen_config.py für den Start-Benchmark.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gen_config", description=__doc__.split("\n")[0])
    p.add_argument("target", type=Path)
    p.add_argument("--entities", type=int, default=40)
    args = p.parse_args(argv)
    generate(args.target, args.entities)
    from app.metamodel.loader import load_spec
    spec = load_spec(args.target)
    print(f"{args.target}: {len(spec.entities)} Seiten, gültig.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
