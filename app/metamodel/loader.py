"""Read the YAML configuration with line numbers, apply a city overlay, validate, collect issues.

The base configuration lives in ``config/`` (settings.yaml, entities.yaml, roles.yaml); a city overlay
in ``config/cities/<name>/`` has the same files and is merged into it: lists of named items (entities,
fields, pages, catalogues, values, org units, profiles) merge by name, everything else is replaced.
An overlay may also ``remove_fields`` of an entity. Every problem is collected, then reported at once.
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
    """A YAML mapping that remembers where each key stood."""

    pos: Pos
    key_pos: dict[str, Pos]


class LList(list):
    """A YAML sequence that remembers where each item stood."""

    pos: Pos
    item_pos: list[Pos]


def _loader_for(file: str, duplicates: list[tuple[str, int]]):
    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Loader, node: yaml.MappingNode) -> LDict:
        loader.flatten_mapping(node)
        out = LDict()
        out.pos = Pos(file, node.start_mark.line + 1)
        out.key_pos = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                duplicates.append((str(key), key_node.start_mark.line + 1))
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


# Which lists merge item by item in an overlay, and by which key.
_MERGE_KEYS = {
    "entities": "name", "fields": "name", "pages": "name", "catalogues": "name",
    "values": "code", "org_units": "code", "profiles": "name",
}
# Each file of a configuration directory and where its content goes in the spec.
_FILES = {"settings.yaml": "settings", "entities.yaml": None, "roles.yaml": "roles"}


def _merge(base: Any, over: Any, key: str | None = None) -> Any:
    if isinstance(base, LDict) and isinstance(over, LDict):
        for k, value in over.items():
            base[k] = _merge(base[k], value, k) if k in base else value
            base.key_pos[k] = over.key_pos[k]
        return base
    if isinstance(base, LList) and isinstance(over, LList) and key in _MERGE_KEYS:
        name_key = _MERGE_KEYS[key]
        index = {item.get(name_key): i for i, item in enumerate(base) if isinstance(item, dict)}
        for item, pos in zip(over, over.item_pos):
            name = item.get(name_key) if isinstance(item, dict) else None
            if name is not None and name in index:
                base[index[name]] = _merge(base[index[name]], item)
            else:
                base.append(item)
                base.item_pos.append(pos)
        return base
    return over


def _read_file(path: Path, issues: list[SpecIssue]) -> LDict | None:
    duplicates: list[tuple[str, int]] = []
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader_for(str(path), duplicates))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        issues.append(SpecIssue("spec.E001", f"YAML-Syntaxfehler: {exc.problem}", str(path), line, "(Datei)"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(SpecIssue("spec.E002", f"Datei nicht lesbar: {exc}", str(path), 1, "(Datei)"))
        return None
    for key, line in duplicates:
        issues.append(SpecIssue("spec.E003", f"Schlüssel '{key}' steht doppelt", str(path), line, key))
    if data is None:
        return None
    if not isinstance(data, LDict):
        issues.append(SpecIssue("spec.E004", "Die Datei muss eine Zuordnung (Schlüssel: Wert) sein",
                                str(path), 1, "(Datei)"))
        return None
    return data


def _wrap(section: str | None, data: LDict, file: str) -> LDict:
    if section is None:
        return data
    out = LDict({section: data})
    out.pos = Pos(file, 1)
    out.key_pos = {section: Pos(file, 1)}
    return out


def _positions(node: Any, loc: Loc, out: dict[Loc, Pos]) -> None:
    if isinstance(node, LDict):
        for key, value in node.items():
            out[(*loc, key)] = node.key_pos.get(key, node.pos)
            _positions(value, (*loc, key), out)
    elif isinstance(node, LList):
        for i, value in enumerate(node):
            out[(*loc, i)] = node.item_pos[i] if i < len(node.item_pos) else node.pos
            _positions(value, (*loc, i), out)


class Located:
    """Turns a loc in the merged spec into file, line and a path as the admin sees it in that file."""

    def __init__(self, merged: LDict, root: Path):
        self.positions: dict[Loc, Pos] = {}
        self.root = root
        _positions(merged, (), self.positions)

    def issue(self, found: Found) -> SpecIssue:
        loc = found.loc
        probe = loc
        while probe and probe not in self.positions:
            probe = probe[:-1]
        pos = self.positions.get(probe, Pos(str(self.root / "entities.yaml"), 1))
        # Paths are shown as the admin wrote them in that file: roles.yaml has no 'roles' prefix.
        shown = loc[1:] if loc and loc[0] in ("roles", "settings") else loc
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
    dirs = [config_dir]
    if city:
        city_dir = config_dir / "cities" / city
        if not city_dir.is_dir():
            known = sorted(p.name for p in (config_dir / "cities").glob("*") if p.is_dir())
            issues.append(SpecIssue("spec.E005", f"Stadt-Overlay '{city}' nicht gefunden", str(city_dir), 1,
                                    "FACHSTELLE_CITY", _did_you_mean(city, known)))
        else:
            dirs.append(city_dir)
    for directory in dirs:
        for name, section in _FILES.items():
            path = directory / name
            if not path.exists():
                if directory == config_dir and name == "entities.yaml":
                    issues.append(SpecIssue("spec.E002", "Datei fehlt", str(path), 1, "(Datei)"))
                continue
            data = _read_file(path, issues)
            if data is not None:
                _merge(merged, _wrap(section, data, str(path)))
    return merged


def _apply_removals(merged: LDict) -> list[Found]:
    """Overlay key ``remove_fields``: drop fields of an entity (the contract check guards core fields)."""
    found: list[Found] = []
    for i, entity in enumerate(merged.get("entities") or []):
        if not isinstance(entity, LDict) or "remove_fields" not in entity:
            continue
        removals = entity.pop("remove_fields") or []
        fields = entity.get("fields") or LList()
        names = [f.get("name") for f in fields if isinstance(f, dict)]
        for name in removals:
            if name not in names:
                found.append(Found("spec.E006", ("entities", i, "name"),
                                   f"remove_fields: Feld '{name}' gibt es in '{entity.get('name')}' nicht",
                                   _did_you_mean(str(name), names)))
        keep = [(f, p) for f, p in zip(fields, fields.item_pos) if not (isinstance(f, dict) and f.get("name") in removals)]
        new = LList(f for f, _ in keep)
        new.pos, new.item_pos = fields.pos, [p for _, p in keep]
        entity["fields"] = new
        entity.setdefault("_removed", list(removals))
    return found


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


def _pydantic_issue(error: dict) -> Found:
    loc: Loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
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
        return Found("spec.E012", loc, f"unbekannter {what} '{value}'",
                     _did_you_mean(str(value), expected) or f"Erlaubt: {', '.join(expected)}")
    if kind == "string_pattern_mismatch":
        return Found("spec.E013", loc, f"ungültiger Name '{value}'",
                     "Namen bestehen aus a–z, 0–9 und _ und beginnen mit einem Buchstaben.")
    if kind in _TYPE_NAMES:
        return Found("spec.E014", loc, f"'{value}' ist kein(e) {_TYPE_NAMES[kind]}")
    return Found("spec.E019", loc, f"ungültiger Wert '{value}': {error['msg']}")


def load_spec(config_dir: str | Path, city: str | None = None) -> AppSpec:
    """Load, merge and validate the configuration; raise ConfigError with every issue found."""
    config_dir = Path(config_dir)
    issues: list[SpecIssue] = []
    merged = load_raw(config_dir, city, issues)
    if issues and not merged.get("entities"):
        raise ConfigError(issues)
    found = _apply_removals(merged)
    removed = {e.get("name"): e.pop("_removed") for e in merged.get("entities") or [] if isinstance(e, dict) and "_removed" in e}
    located = Located(merged, config_dir)
    spec = None
    try:
        spec = AppSpec.model_validate(merged)
    except ValidationError as exc:
        found += [_pydantic_issue(e) for e in exc.errors()]
    if spec is not None:
        found += list(run_checks(spec, removed))
    issues += [located.issue(f) for f in found]
    if issues:
        raise ConfigError(issues)
    return spec
