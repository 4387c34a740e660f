"""Cross-reference checks over a parsed spec, in the manner of Django's system checks.

Each check yields ``Found`` tuples; the loader adds file and line. Checks never stop at the first
problem, so ``check-config`` can report everything at once.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from .issues import Found
from .kinds import is_kind, kind_of, points_to
from .spec import AppSpec, EntitySpec

# The entities and fields that domain code reads (DESIGN.md: the core contract). Everything else in
# the YAML is free to change; these may be relabelled and reordered, never removed or retyped.
CORE_CONTRACT: dict[str, dict[str, tuple[str, ...]]] = {
    "partner": {"surname": ("string",), "first_name": ("string",), "birth_date": ("date",),
                "sex": ("choice",), "title": ("string",), "kind": ("choice",)},
    "address": {"partner": ("ref",), "street": ("string",), "house_number": ("string",),
                "postcode": ("string",), "city": ("string",)},
    "partner_role_assignment": {"partner": ("ref",), "role": ("choice",)},
    "case": {"client": ("ref",), "opened_on": ("date",), "file_number": ("string",), "external_ref": ("string",)},
    "housing_emergency": {"case": ("ref",)},
    # Documentation, the service catalogue and the worklist (follow-up rules, indicators, letters).
    "service": {"code": ("string",), "name": ("string",), "measurement_point": ("choice",),
                "counts_as_contact": ("boolean",), "letter_template": ("string",),
                "follow_up_days": ("integer",), "follow_up_title": ("string",),
                "follow_up_closed_by": ("choice",), "follow_up_cancel_on_contact": ("boolean",),
                "active_from": ("date",), "active_to": ("date",)},
    "doc_entry": {"case": ("ref",), "entry_date": ("date",), "service": ("ref",), "info": ("string",),
                  "provider": ("user",), "in_pairs": ("boolean",), "measurement_point": ("choice",),
                  "counts_as_contact": ("boolean",)},
    "task": {"case": ("ref",), "title": ("string",), "due_on": ("date",), "assignee": ("user",),
             "state": ("choice",), "closed_by": ("choice",), "cancel_on_contact": ("boolean",),
             "source_entry": ("ref",), "done_on": ("date",)},
    "eviction_lawsuit": {"case": ("ref",), "court": ("ref",), "court_file_number": ("string",),
                         "received_on": ("date",), "hearing_on": ("date",)},
    "forced_eviction": {"case": ("ref",), "bailiff": ("ref",), "received_on": ("date",), "eviction_on": ("date",),
                        "eviction_at": ("string",)},
    "appointment": {"case": ("ref",), "starts_on": ("date",), "starts_at": ("string",), "place": ("choice",),
                    "location": ("string",), "staff": ("user",), "in_pairs": ("boolean",)},
}
CORE_CATALOGUES = {"partner_role", "sex", "partner_kind", "measurement_point", "task_state", "service_group",
                   "appointment_place"}
INDEXABLE_SYSTEM_COLUMNS = {"org_unit": "org_unit_id", "created_at": "created_at", "updated_at": "updated_at"}
RESERVED = {"id", "org_unit_id", "org_unit", "created_at", "created_by", "updated_at", "updated_by",
            "version", "metadata", "query", "registry"}


def _suggest(word: str, choices) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"Meinten Sie '{match[0]}'?" if match else None


def check_names(spec: AppSpec) -> Iterator[Found]:
    yield from _duplicates("spec.E101", [e.name for e in spec.entities], ("entities",), "name",
                           "Entität '{}' ist doppelt definiert")
    for i, entity in enumerate(spec.entities):
        seen: set[str] = set()
        for j, field in enumerate(entity.fields):
            loc = ("entities", i, "fields", j, "name")
            if field.name in seen:
                yield Found("spec.E102", loc, f"Feld '{field.name}' ist in '{entity.name}' doppelt definiert")
            if field.name in RESERVED:
                yield Found("spec.E103", loc, f"Feldname '{field.name}' ist reserviert",
                            "Das System legt dieses Feld selbst an.")
            seen.add(field.name)


def _duplicates(id: str, names: list, loc: tuple, key: str, message: str) -> Iterator[Found]:
    """Every repetition of a name, at the place of the repetition (the first one is the original)."""
    seen: set = set()
    for index, name in enumerate(names):
        if name in seen:
            yield Found(id, (*loc, index, key), message.format(name))
        seen.add(name)


def check_field_types(spec: AppSpec) -> Iterator[Found]:
    """Each field's options against what its kind accepts or requires (``FieldKind.options``)."""
    entities = {e.name for e in spec.entities}
    catalogues = {c.name for c in spec.catalogues}
    for i, entity in enumerate(spec.entities):
        for j, field in enumerate(entity.fields):
            loc = ("entities", i, "fields", j)
            kind = kind_of(field)
            if "ref" in kind.required_options:
                if not field.ref:
                    yield Found("spec.E110", (*loc, "ref"), f"Feld '{field.name}': Verweis ohne Ziel",
                                "Mit 'ref: <entität>' angeben, worauf das Feld verweist.")
                elif field.ref not in entities:
                    yield Found("spec.E111", (*loc, "ref"), f"unbekannte Entität '{field.ref}'",
                                _suggest(field.ref, entities) or "Unter 'entities' anlegen oder Schreibweise prüfen.")
            elif field.ref:
                yield Found("spec.E112", (*loc, "ref"), f"'ref' passt nur zu Feldtyp 'ref', nicht '{field.type}'")
            if "catalogue" in kind.required_options:
                if not field.catalogue:
                    yield Found("spec.E113", (*loc, "catalogue"), f"Feld '{field.name}': Auswahl ohne Katalog",
                                "Mit 'catalogue: <name>' den Katalog der Werte angeben.")
                elif field.catalogue not in catalogues:
                    yield Found("spec.E114", (*loc, "catalogue"), f"unbekannter Katalog '{field.catalogue}'",
                                _suggest(field.catalogue, catalogues) or "Unter 'catalogues' anlegen.")
            elif field.catalogue:
                yield Found("spec.E115", (*loc, "catalogue"),
                            f"'catalogue' passt nur zu Auswahlfeldern, nicht '{field.type}'")
            if field.length is not None and "length" not in kind.options:
                yield Found("spec.E116", (*loc, "length"), f"'length' gilt nur für Feldtyp 'string', nicht '{field.type}'")
            if field.regex is not None:
                try:
                    re.compile(field.regex)
                except re.error as exc:
                    yield Found("spec.E117", (*loc, "regex"), f"ungültiger regulärer Ausdruck '{field.regex}'",
                                f"Python meldet: {exc}")
            if (field.min is not None or field.max is not None) and not {"min", "max"} <= kind.options:
                yield Found("spec.E118", (*loc, "min" if field.min is not None else "max"),
                            f"'min'/'max' gelten nur für Zahlenfelder, nicht '{field.type}'")
            if field.street_picker and "street_picker" not in kind.options:
                yield Found("spec.E119", (*loc, "street_picker"), "Straßenauswahl nur für Textfelder (string)")
            # Defaults fill the form only: a hidden required field could never be saved. (read_only
            # stays allowed: a service may fill such a field.)
            if field.hidden and field.required and not kind.always_set:
                yield Found("spec.E125", (*loc, "hidden"),
                            f"Pflichtfeld '{field.name}' ist ausgeblendet – kein Datensatz ließe sich speichern",
                            "'required: false' setzen oder das Feld nicht ausblenden.")


def _check_field_list(entity: EntitySpec, i: int, key: str, names: list[str]) -> Iterator[Found]:
    known = [f.name for f in entity.fields]
    for k, name in enumerate(names):
        if name not in known:
            yield Found("spec.E120", ("entities", i, key, k), f"unbekanntes Feld '{name}' in '{entity.name}'",
                        _suggest(name, known))


def check_field_lists(spec: AppSpec) -> Iterator[Found]:
    entities = {e.name: e for e in spec.entities}
    for i, entity in enumerate(spec.entities):
        yield from _check_field_list(entity, i, "list_columns", entity.list_columns)
        yield from _check_field_list(entity, i, "search_fields", entity.search_fields)
        yield from _check_field_list(entity, i, "title_fields", entity.title_fields)
        if entity.order_by:
            yield from (Found(f.id, ("entities", i, "order_by"), f.message, f.hint)
                        for f in _check_field_list(entity, i, "order_by", [entity.order_by]))
        for p, page in enumerate(entity.pages):
            known = [f.name for f in entity.fields]
            for k, name in enumerate(page.fields):
                if name not in known:
                    yield Found("spec.E120", ("entities", i, "pages", p, "fields", k),
                                f"unbekanntes Feld '{name}' in '{entity.name}'", _suggest(name, known))
        for x, index in enumerate(entity.indexes):
            # The record's own columns (org unit, created/updated at) may be indexed too.
            fields = [n for n in index if n not in INDEXABLE_SYSTEM_COLUMNS]
            for f in _check_field_list(entity, i, "indexes", fields):
                yield Found(f.id, ("entities", i, "indexes", x, index.index(fields[f.loc[-1]])), f.message, f.hint)
        for u, unique in enumerate(entity.unique):
            yield from (Found(f.id, ("entities", i, "unique", u, *f.loc[2:]), f.message, f.hint)
                        for f in _check_field_list(entity, i, "fields", unique.fields))
        for r, child in enumerate(entity.related):
            if child not in entities:
                yield Found("spec.E121", ("entities", i, "related", r), f"unbekannte Entität '{child}'",
                            _suggest(child, entities))
            elif not any(points_to(f, entity.name) for f in entities[child].fields):
                yield Found("spec.E122", ("entities", i, "related", r),
                            f"'{child}' hat kein Verweisfeld auf '{entity.name}'")
        if entity.parent:
            if entity.parent not in entities:
                yield Found("spec.E123", ("entities", i, "parent"), f"unbekannte Entität '{entity.parent}'",
                            _suggest(entity.parent, entities))
            else:
                pf = entity.field(entity.parent_field or entity.parent)
                if pf is None or not points_to(pf, entity.parent):
                    yield Found("spec.E124", ("entities", i, "parent_field" if entity.parent_field else "parent"),
                                f"'{entity.name}' braucht ein Verweisfeld '{entity.parent_field or entity.parent}' "
                                f"auf '{entity.parent}'")


def check_roles(spec: AppSpec) -> Iterator[Found]:
    entities = {e.name for e in spec.entities}
    for p, profile in enumerate(spec.roles.profiles):
        for name in profile.entities:
            if name not in entities:
                yield Found("spec.E130", ("roles", "profiles", p, "entities", name),
                            f"unbekannte Entität '{name}' im Profil '{profile.name}'", _suggest(name, entities))
    yield from _duplicates("spec.E131", [p.name for p in spec.roles.profiles], ("roles", "profiles"), "name",
                           "Profil '{}' ist doppelt")
    yield from _duplicates("spec.E132", [o.code for o in spec.settings.org_units], ("settings", "org_units"), "code",
                           "Dienststelle '{}' ist doppelt")
    yield from _duplicates("spec.E134", [c.name for c in spec.catalogues], ("catalogues",), "name",
                           "Katalog '{}' ist doppelt definiert")
    for c, catalogue in enumerate(spec.catalogues):
        yield from _duplicates("spec.E133", [v.code for v in catalogue.values], ("catalogues", c, "values"), "code",
                               "Wert '{}' im Katalog '" + catalogue.name + "' ist doppelt")


def check_core_contract(spec: AppSpec, removed: dict[str, list[str]]) -> Iterator[Found]:
    """Domain code reads these fields; an overlay may relabel them but not remove or retype them."""
    index = {e.name: i for i, e in enumerate(spec.entities)}
    for entity_name, fields in CORE_CONTRACT.items():
        if entity_name not in index:
            yield Found("spec.E140", ("entities",), f"Entität '{entity_name}' fehlt, wird aber von der Fachlogik benötigt")
            continue
        i = index[entity_name]
        entity = spec.entities[i]
        for field_name, types in fields.items():
            field = entity.field(field_name)
            if field is None:
                removals = removed.get(entity_name, [])
                # Point at the overlay's remove_fields entry when that is what removed it.
                loc = (("entities", i, "remove_fields", removals.index(field_name)) if field_name in removals
                       else ("entities", i, "fields"))
                how = "entfernt" if field_name in removals else "fehlt"
                yield Found("spec.E141", loc,
                            f"Feld '{entity_name}.{field_name}' {how}, wird aber von der Fachlogik benötigt",
                            "Kernfelder lassen sich umbenennen (label) oder ausblenden (hidden), nicht entfernen.")
            elif not is_kind(field, *types):
                j = entity.fields.index(field)
                yield Found("spec.E142", ("entities", i, "fields", j, "type"),
                            f"Feld '{entity_name}.{field_name}' muss vom Typ '{types[0]}' sein")
    catalogues = {c.name for c in spec.catalogues}
    for name in sorted(CORE_CATALOGUES - catalogues):
        yield Found("spec.E143", ("catalogues",), f"Katalog '{name}' fehlt, wird aber von der Fachlogik benötigt")


def check_services(spec: AppSpec) -> Iterator[Found]:
    """Seeded services name catalogue codes; a typo would seed a service that indicators never see."""
    codes = {c.name: {v.code for v in c.values} for c in spec.catalogues}
    yield from _duplicates("spec.E150", [s.code for s in spec.services], ("services",), "code",
                           "Leistung '{}' ist doppelt")
    for i, service in enumerate(spec.services):
        checks = [("group", service.group, "service_group"),
                  ("measurement_point", service.measurement_point, "measurement_point")]
        if service.follow_up:
            checks.append((("follow_up", "closed_by"), service.follow_up.closed_by, "measurement_point"))
        for key, value, catalogue in checks:
            if value is not None and value not in codes.get(catalogue, set()):
                key = key if isinstance(key, tuple) else (key,)
                yield Found("spec.E151", ("services", i, *key), f"unbekannter Wert '{value}' (Katalog '{catalogue}')",
                            _suggest(value, codes.get(catalogue, set())) or f"Im Katalog '{catalogue}' anlegen.")
        if service.active_from and service.active_to and service.active_to < service.active_from:
            yield Found("spec.E152", ("services", i, "active_to"), "'active_to' liegt vor 'active_from'")


def check_retention(spec: AppSpec) -> Iterator[Found]:
    """Retention rules (#15) name fields of their own entity: a date to count from, a yes/no legal hold, and
    the fields of their overrides. A typo would keep records forever or erase them early."""
    for i, entity in enumerate(spec.entities):
        rule = entity.retention
        if rule is None:
            continue
        at = ("entities", i, "retention")
        names = {f.name: f for f in entity.fields}
        wanted = [(("after",), rule.after, ("date",)), (("hold",), rule.hold, ("boolean",))]
        wanted += [(("overrides", k, "when", name), name, None) for k, o in enumerate(rule.overrides) for name in o.when]
        for key, name, types in wanted:
            if name is None:
                continue
            f = names.get(name)
            if f is None:
                yield Found("spec.E160", (*at, *key), f"Aufbewahrung: unbekanntes Feld '{name}' in '{entity.name}'",
                            _suggest(name, names) or "Ein Feld dieser Entität angeben.")
            elif types is not None and not is_kind(f, *types):
                yield Found("spec.E161", (*at, *key),
                            f"Aufbewahrung: Feld '{name}' muss vom Typ {' oder '.join(types)} sein, ist {f.type}")


def run_checks(spec: AppSpec, removed: dict[str, list[str]] | None = None) -> Iterator[Found]:
    yield from check_names(spec)
    yield from check_field_types(spec)
    yield from check_field_lists(spec)
    yield from check_roles(spec)
    yield from check_core_contract(spec, removed or {})
    yield from check_services(spec)
    yield from check_retention(spec)
