"""Read the YAML configuration with line numbers, apply a city overlay, validate, collect issues.

The base configuration lives in ``config/`` (settings.yaml, entities.yaml, roles.yaml); a city overlay
in ``config/cities/<name>/`` has the same files and is merged into it: lists of named items (entities,
fields, pages, catalogues, values, profiles) merge by name (values by code), every other value is
replaced. ``org_units`` are replaced as a whole: a city brings its own offices, not the sample ones.
An overlay may also ``remove_fields`` of an entity. Every problem is collected, then reported at once,
each with the file, line and path (as written in that file) it comes from.
"""
from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ValidationError

from .checks import run_checks
from .issues import ConfigError, Found, Loc, SpecIssue, format_path
from .spec import AppSpec


class Pos(NamedTuple):
    file: str
    line: int


class LDict(dict):
    """A YAML mapping that remembers where each key stood: line, and path within its own file."""

    pos: Pos
    key_pos: dict[str, Pos]
    loc: Loc = ()
    key_loc: dict[str, Loc]


class LList(list):
    """A YAML sequence that remembers where each item stood: line, and path within its own file."""

    pos: Pos
    item_pos: list[Pos]
    item_loc: list[Loc]


# libyaml parses a 40-entity configuration ten times faster than PyYAML's pure-Python parser (a
# quarter of the start-up); a file it rejects is read again by the pure parser, whose messages
# _YAML_PROBLEMS translates.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader_for(file: str, duplicates: list[tuple[str, int, LDict]], base=yaml.SafeLoader):
    class Loader(base):
        pass

    def mapping(loader: Loader, node: yaml.MappingNode) -> LDict:
        loader.flatten_mapping(node)
        out = LDict()
        out.pos = Pos(file, node.start_mark.line + 1)
        out.key_pos = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                duplicates.append((str(key), key_node.start_mark.line + 1, out))
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_pos[key] = Pos(file, key_node.start_mark.line + 1)
        return out

    def sequence(loader: Loader, node: yaml.SequenceNode) -> LList:
        out = LList(loader.construct_object(child, deep=True) for child in node.value)
        out.pos = Pos(file, node.start_mark.line + 1)
        out.item_pos = [Pos(file, child.start_mark.line + 1) for child in node.value]
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


def _assign_locs(node: Any, loc: Loc) -> None:
    """Record each node's path in its own file; merging keeps it, so overlay issues name overlay paths."""
    if isinstance(node, LDict):
        node.loc = loc
        node.key_loc = {key: (*loc, key) for key in node}
        for key, value in node.items():
            _assign_locs(value, (*loc, key))
    elif isinstance(node, LList):
        node.item_loc = [(*loc, i) for i in range(len(node))]
        for i, value in enumerate(node):
            _assign_locs(value, (*loc, i))


# Which lists merge item by item in an overlay, and by which key. Other lists (org_units, a page's
# fields, list_columns, remove_fields ...) are replaced as a whole.
_MERGE_KEYS = {
    "entities": "name", "fields": "name", "pages": "name", "catalogues": "name",
    "values": "code", "profiles": "name", "services": "code",
}
# Each file of a configuration directory and where its content goes in the spec.
_FILES = {"settings.yaml": "settings", "entities.yaml": None, "roles.yaml": "roles", "services.yaml": None}


def _merge(base: Any, over: Any, key: str | None = None) -> Any:
    if isinstance(base, LDict) and isinstance(over, LDict):
        for k, value in over.items():
            base[k] = _merge(base[k], value, k) if k in base else value
            base.key_pos[k] = over.key_pos[k]
            base.key_loc[k] = over.key_loc[k]
        return base
    # Only lists of mappings merge: a page's ``fields: [a, b]`` (plain names) is replaced as a whole.
    if (isinstance(base, LList) and isinstance(over, LList) and key in _MERGE_KEYS
            and all(isinstance(item, dict) for item in [*base, *over])):
        name_key = _MERGE_KEYS[key]
        index = {item.get(name_key): i for i, item in enumerate(base) if isinstance(item, dict)}
        for item, pos, loc in zip(over, over.item_pos, over.item_loc):
            name = item.get(name_key) if isinstance(item, dict) else None
            if name is not None and name in index:
                base[index[name]] = _merge(base[index[name]], item)
            else:
                base.append(item)
                base.item_pos.append(pos)
                base.item_loc.append(loc)
        return base
    return over


# PyYAML's problems in the words of an admin who edits YAML by hand (prefix match; else PyYAML's text).
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "unerwarteter Doppelpunkt – Einrückung prüfen oder Wert in Anführungszeichen"),
    ("expected <block end>", "Einrückung passt nicht zu den Zeilen darüber"),
    ("expected ',' or ']'", "Liste in [ ] nicht geschlossen oder Komma fehlt"),
    ("expected ',' or '}'", "Zuordnung in { } nicht geschlossen oder Komma fehlt"),
    ("found unexpected end of stream", "Anführungszeichen nicht geschlossen"),
    ("found character '\\t'", "Tabulator gefunden – bitte nur mit Leerzeichen einrücken"),
    ("found undefined alias", "unbekannter Verweis (Alias mit *)"),
    ("could not find expected ':'", "Doppelpunkt nach dem Schlüssel fehlt"),
)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[str, int]:
    problem = exc.problem or exc.context or "unbekannt"
    text = next((german for prefix, german in _YAML_PROBLEMS if problem.startswith(prefix)), problem)
    if problem.startswith("found character") and text == problem:
        text = f"Zeichen {problem.split()[2]} darf keinen Wert beginnen – Wert in Anführungszeichen setzen"
    # An unclosed quote is found at the end of the file; where it was opened helps more.
    mark = exc.context_mark if "quoted scalar" in (exc.context or "") else (exc.problem_mark or exc.context_mark)
    return f"YAML-Syntaxfehler: {text}", mark.line + 1 if mark else 1


def _read_file(path: Path, issues: list[SpecIssue]) -> LDict | None:
    duplicates: list[tuple[str, int, LDict]] = []
    file = _short(str(path))
    try:
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.load(text, Loader=_loader_for(str(path), duplicates, _FAST_LOADER))
        except yaml.MarkedYAMLError:
            duplicates.clear()
            data = yaml.load(text, Loader=_loader_for(str(path), duplicates))
    except yaml.MarkedYAMLError as exc:
        message, line = _yaml_problem(exc)
        issues.append(SpecIssue("spec.E001", message, file, line, "(Datei)"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(SpecIssue("spec.E002", f"Datei nicht lesbar: {exc}", file, 1, "(Datei)"))
        return None
    _assign_locs(data, ())
    for key, line, mapping in duplicates:
        issues.append(SpecIssue("spec.E003", f"Schlüssel '{key}' steht doppelt", file, line,
                                format_path((*mapping.loc, key)), "Einen der beiden Einträge löschen (sonst gilt der untere)."))
    if data is None:
        return None
    if not isinstance(data, LDict):
        issues.append(SpecIssue("spec.E004", "Die Datei muss eine Zuordnung (Schlüssel: Wert) sein",
                                file, 1, "(Datei)"))
        return None
    return data


def _wrap(section: str | None, data: LDict, file: str) -> LDict:
    if section is None:
        return data
    out = LDict({section: data})
    out.pos = Pos(file, 1)
    out.key_pos = {section: Pos(file, 1)}
    out.key_loc = {section: ()}  # roles.yaml is 'roles' in the spec, but its paths start at its top
    return out


def _positions(node: Any, loc: Loc, out: dict[Loc, tuple[Pos, Loc]]) -> None:
    if isinstance(node, LDict):
        for key, value in node.items():
            out[(*loc, key)] = (node.key_pos.get(key, node.pos), node.key_loc.get(key, (*node.loc, key)))
            _positions(value, (*loc, key), out)
    elif isinstance(node, LList):
        for i, value in enumerate(node):
            known = i < len(node.item_pos)
            out[(*loc, i)] = (node.item_pos[i] if known else node.pos, node.item_loc[i] if known else (*loc, i))
            _positions(value, (*loc, i), out)


class Located:
    """Turns a loc in the merged spec into file, line and the path as the admin wrote it in that file."""

    def __init__(self, merged: LDict, root: Path):
        self.positions: dict[Loc, tuple[Pos, Loc]] = {}
        self.root = root
        _positions(merged, (), self.positions)

    def issue(self, found: Found) -> SpecIssue:
        loc = found.loc
        probe = loc
        while probe and probe not in self.positions:
            probe = probe[:-1]
        pos, shown = self.positions.get(probe, (Pos(str(self.root / "entities.yaml"), 1), ()))
        # A merged list has other indexes than the overlay file: show the path within the file itself.
        shown = (*shown, *loc[len(probe):])
        return SpecIssue(found.id, found.message, _short(pos.file), pos.line, format_path(shown), found.hint)


def _short(file: str) -> str:
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except ValueError:
        return file


def load_raw(config_dir: Path, city: str | None, issues: list[SpecIssue]) -> LDict:
    """Read the base files and the city's overlay into one merged tree with positions."""
    merged = LDict()
    merged.pos = Pos(str(config_dir / "entities.yaml"), 1)
    merged.key_pos = {}
    merged.key_loc = {}
    dirs = [config_dir]
    if city:
        city_dir = config_dir / "cities" / city
        if not city_dir.is_dir():
            known = sorted(p.name for p in (config_dir / "cities").glob("*") if p.is_dir())
            hint = _did_you_mean(city, known) or (f"Vorhanden: {', '.join(known)}" if known else
                                                  f"Verzeichnis {_short(str(city_dir))} anlegen.")
            issues.append(SpecIssue("spec.E005", f"Stadt-Overlay '{city}' nicht gefunden", _short(str(city_dir)), 1,
                                    "FACHSTELLE_CITY", hint))
        else:
            dirs.append(city_dir)
    for directory in dirs:
        for name, section in _FILES.items():
            path = directory / name
            if not path.exists():
                if directory == config_dir and name == "entities.yaml":
                    issues.append(SpecIssue("spec.E007", "Datei fehlt", _short(str(path)), 1, "(Datei)"))
                continue
            data = _read_file(path, issues)
            if data is not None:
                _merge(merged, _wrap(section, data, str(path)))
    return merged


def locator(config_dir: str | Path, city: str | None):
    """``Found -> SpecIssue`` for checks that run after loading (e.g. the roles wiring once the views
    are built): reads the files again to know their lines, only when there is something to report."""
    config_dir = Path(config_dir)
    located: list[Located] = []

    def locate(found: Found) -> SpecIssue:
        if not located:
            located.append(Located(load_raw(config_dir, city, []), config_dir))
        return located[0].issue(found)
    return locate


def _apply_removals(merged: LDict) -> tuple[list[Found], dict[str, list[str]]]:
    """Overlay key ``remove_fields``: drop fields of an entity (the contract check guards core fields).

    The key itself stays until positions are taken, so issues about it point at the overlay's line;
    ``_drop_removal_keys`` removes it before validation.
    """
    found: list[Found] = []
    removed: dict[str, list[str]] = {}
    for i, entity in enumerate(merged.get("entities") or []):
        if not isinstance(entity, LDict) or "remove_fields" not in entity:
            continue
        removals = entity["remove_fields"]
        if not isinstance(removals, list):
            found.append(Found("spec.E008", ("entities", i, "remove_fields"),
                               f"{_show(removals)} ist kein(e) Liste", "Schreibweise: remove_fields: [feld1, feld2]"))
            continue
        fields = entity.get("fields")
        if not isinstance(fields, LList):
            continue
        names = [f.get("name") for f in fields if isinstance(f, dict)]
        for k, name in enumerate(removals):
            if name not in names:
                found.append(Found("spec.E006", ("entities", i, "remove_fields", k),
                                   f"Feld '{name}' gibt es in '{entity.get('name')}' nicht",
                                   _did_you_mean(str(name), names)))
        keep = [k for k, f in enumerate(fields) if not (isinstance(f, dict) and f.get("name") in removals)]
        new = LList(fields[k] for k in keep)
        new.pos, new.item_pos, new.item_loc = fields.pos, [fields.item_pos[k] for k in keep], [fields.item_loc[k] for k in keep]
        entity["fields"] = new
        removed[str(entity.get("name"))] = [str(name) for name in removals]
    return found, removed


def _drop_removal_keys(merged: LDict) -> None:
    for entity in merged.get("entities") or []:
        if isinstance(entity, LDict):
            entity.pop("remove_fields", None)


def _show(value: Any) -> str:
    """A YAML value quoted for a one-line message, cut short."""
    text = str(value)
    return f"'{text if len(text) <= 40 else text[:37] + '...'}'"


def _did_you_mean(word: str, choices: typing.Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"Meinten Sie '{match[0]}'?" if match else None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic class that validates the mapping at ``loc`` (to suggest the keys it knows)."""
    model: Any = AppSpec
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _unwrap(model.model_fields[part].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for arg in typing.get_args(annotation) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _unwrap(arg)
        if inner is not None:
            return inner
    return annotation if isinstance(annotation, type) else None


_TYPE_NAMES = {"string_type": "Text", "int_type": "ganze Zahl", "int_parsing": "ganze Zahl",
               "bool_type": "ja/nein (true/false)", "bool_parsing": "ja/nein (true/false)",
               "list_type": "Liste", "dict_type": "Zuordnung", "model_type": "Zuordnung",
               "date_from_datetime_parsing": "Datum (JJJJ-MM-TT)", "date_parsing": "Datum (JJJJ-MM-TT)",
               "date_type": "Datum (JJJJ-MM-TT)", "decimal_parsing": "Zahl", "model_attributes_type": "Zuordnung"}


def _union_members(loc: Loc) -> int:
    """How many types the field at ``loc`` accepts (pydantic adds one loc part per union member)."""
    model = _model_at(loc[:-1])
    if model is None or not isinstance(loc[-1], str) or loc[-1] not in model.model_fields:
        return 0
    return len([a for a in typing.get_args(model.model_fields[loc[-1]].annotation) if a is not type(None)])


def _pydantic_issues(errors: list[dict]) -> list[Found]:
    """One issue per place: a value that fits none of a union's types is one problem, not four."""
    out: list[Found | list[dict]] = []
    unions: dict[Loc, list[dict]] = {}
    for error in errors:
        loc: Loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        if len(loc) > 1 and _union_members(loc[:-1]) > 1:
            if loc[:-1] not in unions:
                out.append(unions.setdefault(loc[:-1], []))
            unions[loc[:-1]].append({**error, "loc": loc[:-1]})
        else:
            out.append(_pydantic_issue({**error, "loc": loc}))
    found = [item if isinstance(item, Found) else _union_issue(item) for item in out]
    # A misspelt key ('lable') also makes the real one missing: the suggestion says both.
    typos = {(*f.loc[:-1], f.hint.split("'")[1]) for f in found if f.id == "spec.E010" and f.hint}
    return [f for f in found if not (f.id == "spec.E011" and f.loc in typos)]


def _union_issue(group: list[dict]) -> Found:
    kinds = list(dict.fromkeys(_TYPE_NAMES.get(e["type"], "Zahl") for e in group))
    expected = ", ".join(kinds[:-1]) + f" oder {kinds[-1]}" if len(kinds) > 1 else kinds[0]
    return Found("spec.E014", group[0]["loc"], f"{_show(group[0].get('input'))} ist kein(e) {expected}")


def _pydantic_issue(error: dict) -> Found:
    loc: Loc = error["loc"]
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = _did_you_mean(str(loc[-1]), model.model_fields) if model else None
        return Found("spec.E010", loc, f"unbekannter Schlüssel '{loc[-1]}'", hint)
    if kind == "missing":
        return Found("spec.E011", loc, f"Pflichtangabe '{loc[-1]}' fehlt")
    if kind == "literal_error":
        expected = [e.strip(" '") for e in error["ctx"]["expected"].replace(" or ", ",").split(",")]
        what = {"type": "Feldtyp"}.get(str(loc[-1]), "Wert")
        return Found("spec.E012", loc, f"unbekannter {what} {_show(value)}",
                     _did_you_mean(str(value), expected) or f"Erlaubt: {', '.join(expected)}")
    if kind == "string_pattern_mismatch":
        return Found("spec.E013", loc, f"ungültiger Name {_show(value)}",
                     "Namen bestehen aus a–z, 0–9 und _ und beginnen mit einem Buchstaben.")
    if kind == "string_too_long":
        return Found("spec.E015", loc, f"{_show(value)} ist zu lang ({len(str(value))} Zeichen)",
                     f"Höchstens {error['ctx']['max_length']} Zeichen.")
    if kind in ("greater_than_equal", "less_than_equal"):
        limit = error["ctx"].get("ge", error["ctx"].get("le"))
        word = "mindestens" if kind == "greater_than_equal" else "höchstens"
        return Found("spec.E016", loc, f"{_show(value)} ist zu {'klein' if word == 'mindestens' else 'groß'}",
                     f"Erlaubt ist {word} {limit}.")
    if kind in _TYPE_NAMES:
        return Found("spec.E014", loc, f"{_show(value)} ist kein(e) {_TYPE_NAMES[kind]}")
    return Found("spec.E019", loc, f"ungültiger Wert {_show(value)}: {error['msg']}")


def load_spec(config_dir: str | Path, city: str | None = None) -> AppSpec:
    """Load, merge and validate the configuration; raise ConfigError with every issue found."""
    config_dir = Path(config_dir)
    issues: list[SpecIssue] = []
    merged = load_raw(config_dir, city, issues)
    if issues and not merged.get("entities"):
        raise ConfigError(issues)
    found, removed = _apply_removals(merged)
    located = Located(merged, config_dir)
    _drop_removal_keys(merged)
    spec = None
    try:
        spec = AppSpec.model_validate(merged)
    except ValidationError as exc:
        found += _pydantic_issues(exc.errors())
    if spec is not None:
        found += list(run_checks(spec, removed))
    issues += [located.issue(f) for f in found]
    if issues:
        raise ConfigError(issues)
    return spec
