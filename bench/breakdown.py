"""Where an HTML page's time goes: the page as served, then with parts of FAB's rendering switched off.

    python -m bench.breakdown --db sqlite --size city --only partner_list,case_show

Each variant is measured like bench.run (median after warm-up, in-process test client, the clerk's
login), beside the plain reference. "ohne Templates" still runs every query, permission check and
widget preparation; what it leaves out is Jinja rendering of FAB's layout, menu, search form and table.
It answers whether the ratio target could be met by tuning queries: only if that row is ≤ 2.0.
"""
from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

from .dataset import prepare
from .pages import pages
from .run import _get, _login


def _median_ms(call, warmup: int, repeat: int) -> float:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


@contextmanager
def _replaced(owner, name: str, value):
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--size", choices=["city", "small", "tiny"], default="small")
    p.add_argument("--only", default="partner_list,case_list,case_show")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeat", type=int, default=100)
    p.add_argument("--workdir", type=Path, default=None, help="default: /tmp/bench/<db>-<size>")
    p.add_argument("--pg-url", default=None, help="default: $FACHSTELLE_BENCH_DATABASE_URL or fachstelle_bench")
    args = p.parse_args(argv)

    from app.web.entity_view import EntityModelView
    from app.web.widgets import CappedCountListWidget, CataloguesCachedSearchWidget

    workdir = args.workdir or Path("/tmp/bench") / f"{args.db}-{args.size}"
    bench = prepare(args.db, args.size, workdir, args.pg_url, reuse=True)
    app = bench.app
    app.register_blueprint(__import__("bench.reference", fromlist=["reference"]).reference)
    client = app.test_client()
    _login(client)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    variants = [
        ("ohne Suchformular", CataloguesCachedSearchWidget, "__call__", lambda self, **kw: ""),
        ("ohne Tabelle (Listen-Widget)", CappedCountListWidget, "__call__", lambda self, **kw: ""),
        ("ohne Templates", EntityModelView, "render_template", lambda self, template, **kw: ""),
    ]
    print(f"| Seite ({args.db}, {args.size}) | Referenz | App | " + " | ".join(v[0] for v in variants) + " |")
    print("|---|---:|---:|" + "---:|" * len(variants))
    for page in pages(bench):
        if page.name not in wanted or not page.app_url.startswith(("/partner/", "/case/")):
            continue
        ref = _median_ms(_get(client, page.ref_url), args.warmup, args.repeat)
        cells = [_median_ms(_get(client, page.app_url), args.warmup, args.repeat)]
        for _label, owner, name, value in variants:
            with _replaced(owner, name, value):
                cells.append(_median_ms(_get(client, page.app_url), args.warmup, args.repeat))
        print(f"| {page.name} | {ref:.1f} ms | " + " | ".join(f"{c:.1f} ms ({c / ref:.1f}×)" for c in cells) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
