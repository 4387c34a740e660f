"""Letters per second with the shipped templates, beside plain references.

    .venv/bin/python bench/letters.py                 # 200 letters per template, one process
    .venv/bin/python bench/letters.py -n 500 -p 2     # and with two worker processes

Rows, per shipped template (letter_templates/*.docx):
  fachstelle render     render_docx(): upload check (cached), sandbox, docxtpl, .docx bytes
  fachstelle archive    the same plus SHA-256 and the file written under an instance folder (no database)
  docxtpl plain         docxtpl with a default Jinja environment (no sandbox, no check, no compile cache)
  python-docx open+save the reference: open the same file and save it again, no templating
PDF conversion (LibreOffice, about a second per letter) is not part of the figures.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _templates() -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted((ROOT / "letter_templates").glob("*.docx"))}


def _run(kind: str, data: bytes, n: int) -> float:
    """Seconds for ``n`` letters of one kind (after one warm-up letter)."""
    from docx import Document
    from docxtpl import DocxTemplate
    from jinja2 import Environment

    from app.letters.context import sample_context
    from app.letters.render import render_docx
    from app.letters.storage import sha256_of, store

    context = sample_context()

    def once():
        if kind == "render":
            render_docx(data, context)
        elif kind == "archive":
            output = render_docx(data, context)
            sha256_of(output)
            store(None, "letters/bench", ".docx", output)
        elif kind == "docxtpl":
            tpl = DocxTemplate(io.BytesIO(data))
            tpl.render(context, jinja_env=Environment(autoescape=True))
            tpl.save(io.BytesIO())
        else:
            Document(io.BytesIO(data)).save(io.BytesIO())

    once()
    start = time.perf_counter()
    for _ in range(n):
        once()
    return time.perf_counter() - start


def _worker(args: tuple[str, bytes, int, str]) -> float:
    kind, data, n, instance = args
    os.environ["FACHSTELLE_INSTANCE_DIR"] = instance
    return _run(kind, data, n)


KINDS = [("render", "fachstelle render"), ("archive", "fachstelle archive"), ("docxtpl", "docxtpl plain"),
         ("reference", "python-docx open+save")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Briefe je Sekunde mit den mitgelieferten Vorlagen")
    parser.add_argument("-n", type=int, default=200, help="Briefe je Vorlage und Prozess (Standard 200)")
    parser.add_argument("-p", "--processes", type=int, default=1, help="Prozesse (Standard 1)")
    args = parser.parse_args(argv)
    templates = _templates()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"cpus: {os.cpu_count()}  processes: {args.processes}  letters per template and process: {args.n}")
    print(f"{'template':28} {'kind':24} {'letters/s':>10} {'ms/letter':>10}")
    with tempfile.TemporaryDirectory(prefix="fachstelle-bench-") as instance:
        os.environ["FACHSTELLE_INSTANCE_DIR"] = instance
        totals: dict[str, list[float]] = {kind: [] for kind, _ in KINDS}
        for name, data in templates.items():
            for kind, label in KINDS:
                if args.processes == 1:
                    seconds = _run(kind, data, args.n)
                    rate = args.n / seconds
                else:
                    with ProcessPoolExecutor(args.processes) as pool:
                        start = time.perf_counter()
                        list(pool.map(_worker, [(kind, data, args.n, instance)] * args.processes))
                        seconds = time.perf_counter() - start
                    rate = args.n * args.processes / seconds
                totals[kind].append(rate)
                print(f"{name:28} {label:24} {rate:10.1f} {1000 / rate:10.1f}")
        print()
        for kind, label in KINDS:
            rates = totals[kind]
            print(f"{'all templates (mean)':28} {label:24} {sum(rates) / len(rates):10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
