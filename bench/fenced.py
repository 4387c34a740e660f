"""Filtered lists with and without choosing the page among the matches (FachstelleInterface, point 5).

    python -m bench.fenced --db postgresql

Each URL is requested alternately with the engine as it is ("unter Treffern") and with that path switched
off ("Sortierindex"), 40 times after 5 warm-ups each; medians. Needs a loaded city-size database.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from .dataset import prepare
from .run import _login

URLS = [
    "/case/list/?_flt_0_file_number=2024%2F14",  # 1,700 matches, all in one year: the case that was slow
    "/case/list/?_flt_0_file_number=2024",  # > 10,000 matches: not counted, so not chosen among them
    "/partner/list/?_flt_0_surname=m%C3%BC",  # a few hundred, order by the same (name) index
    "/partner/list/?_flt_0_surname=k",  # 9,000 matches spread evenly: the price of sorting them
    "/partner/list/?_flt_0_surname=k&_oc_PartnerView=birth_date&_od_PartnerView=desc",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fenced", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    p.add_argument("--repeat", type=int, default=40)
    args = p.parse_args(argv)

    import app.web.interface as engine

    bench = prepare(args.db, "city", Path("/tmp/bench") / f"{args.db}-city", reuse=True)
    client = bench.app.test_client()
    _login(client)
    narrowed = engine._narrowed

    def once(url: str, fenced: bool) -> float:
        engine._narrowed = narrowed if fenced else (lambda filters: False)
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        return elapsed

    print(f"| Liste ({args.db}) | unter Treffern | Sortierindex |\n|---|---:|---:|")
    try:
        for url in URLS:
            for _ in range(5):
                once(url, True), once(url, False)
            fenced, plain = [], []
            for _ in range(args.repeat):
                fenced.append(once(url, True))
                plain.append(once(url, False))
            print(f"| `{url}` | {statistics.median(fenced) * 1000:.1f} ms | {statistics.median(plain) * 1000:.1f} ms |",
                  flush=True)
    finally:
        engine._narrowed = narrowed
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
