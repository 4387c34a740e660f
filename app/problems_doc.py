"""Write ``docs/spec-checks.md`` from the problem catalogue: ``python -m app.problems_doc`` or
``fachstelle problems-doc``. A test fails when the committed page differs from what this writes."""
from __future__ import annotations

import sys
from pathlib import Path

from .problem_catalogue import AREAS
from .problems import CATALOGUE, Level

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "spec-checks.md"

_HEAD = """\
# Prüfungen und Meldungen

<!-- Erzeugt aus app/problem_catalogue.py mit `fachstelle problems-doc`; nicht von Hand ändern. -->

Jede Meldung der Fachstelle über fehlerhafte Eingaben – Konfiguration, Berechtigungen, Importe,
Briefvorlagen, Erhebungsbögen – trägt eine Kennung (z. B. `spec.E111`) und den Ort, an dem das Problem
steht: Datei und Zeile, bei YAML zusätzlich den Pfad, bei Importen die Spalte, bei Vorlagen den Absatz.
Eine Kennung bedeutet immer dasselbe; diese Seite listet alle.

Beispiel (`fachstelle check-config`):

```
config/entities.yaml:41: entities[3].fields[2].ref: (spec.E111) unbekannte Entität 'houshold'
    HINWEIS: Meinten Sie 'household'?
```

Fehler verhindern den Start bzw. den Import; Warnungen werden gemeldet, halten aber nichts auf.
"""


def render() -> str:
    parts = [_HEAD]
    for area, intro in AREAS.items():
        kinds = sorted((k for k in CATALOGUE.values() if k.area == area), key=lambda k: k.id)
        parts.append(f"\n## {area}\n\n{intro}\n\n| Kennung | Art | Bedeutung |\n|---|---|---|\n")
        parts.extend(f"| `{k.id}` | {'Fehler' if k.level is Level.ERROR else 'Warnung'} | "
                     f"{k.title.replace('|', '&#124;')} |\n" for k in kinds)
    return "".join(parts)


def write(path: Path = DOC_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.stdout.write(f"{write()} geschrieben.\n")
