"""Timing check for the indicator report in pure Python (no DB): 60,000 notices, 12 districts, two years.

Run: ``.venv/bin/python bench/indicators_domain.py``. Prints the best of five runs and exits with 1 when
it takes a second or more. Not a test: timings on a shared machine are too noisy for CI.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.calendar import working_calendar  # noqa: E402
from app.domain.indicators import (  # noqa: E402
    ACCESS_STANDARDS, HAUSBESUCH, KLAGE_ANSCHREIBEN, KLAGE_EINGANG, KONTAKT, ZR_ANSCHREIBEN,
    ZR_ANWESENHEIT, ZR_MITTEILUNG_EINGANG, ZR_TERMIN, AccessConfirmation, Case, Event, compute_report,
)

DISTRICTS = ("Mitte", "Friedrichshain-Kreuzberg", "Pankow", "Charlottenburg-Wilmersdorf", "Spandau",
             "Steglitz-Zehlendorf", "Tempelhof-Schöneberg", "Neukölln", "Treptow-Köpenick",
             "Marzahn-Hellersdorf", "Lichtenberg", "Reinickendorf")
FROM, TO, AS_OF = date(2024, 1, 1), date(2025, 12, 31), date(2026, 1, 15)
NOTICES = 60_000
LIMIT_SECONDS = 1.0


def make_cases(rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    days = (TO - FROM).days
    notices = 0
    while notices < NOTICES:
        received = FROM + timedelta(days=rng.randrange(days))
        events = []
        if rng.random() < 0.75:  # lawsuit chain
            events.append(Event(KLAGE_EINGANG, received))
            if rng.random() < 0.9:
                sent = received + timedelta(days=rng.randrange(8))
                events.append(Event(KLAGE_ANSCHREIBEN, sent))
                if rng.random() < 0.4:
                    events.append(Event(KONTAKT, sent + timedelta(days=rng.randrange(1, 20))))
                if rng.random() < 0.5:
                    events.append(Event(HAUSBESUCH, sent + timedelta(days=rng.randrange(20)),
                                        in_pairs=rng.random() < 0.6))
            if rng.random() < 0.1:  # a second lawsuit later in the same case
                notices += 1
                again = received + timedelta(days=rng.randrange(60, 200))
                events += [Event(KLAGE_EINGANG, again), Event(KLAGE_ANSCHREIBEN, again + timedelta(days=2))]
        else:  # bailiff chain
            events.append(Event(ZR_MITTEILUNG_EINGANG, received))
            if rng.random() < 0.9:
                events.append(Event(ZR_ANSCHREIBEN, received + timedelta(days=rng.randrange(8))))
            eviction = received + timedelta(days=rng.randrange(14, 60))
            events.append(Event(ZR_TERMIN, eviction))
            if rng.random() < 0.3:
                events.append(Event(KONTAKT, received + timedelta(days=rng.randrange(1, 20))))
            if rng.random() < 0.5:
                events.append(Event(ZR_ANWESENHEIT, eviction, in_pairs=rng.random() < 0.5))
        notices += 1
        rng.shuffle(events)
        cases.append(Case(rng.choice(DISTRICTS), len(cases) + 1, tuple(events)))
    return cases


def main() -> int:
    rng = random.Random(2025)
    cases = make_cases(rng)
    confirmations = [AccessConfirmation(d, s, rng.random() < 0.7, date(2025, 11, 1))
                     for d in DISTRICTS for s in ACCESS_STANDARDS]
    calendar = working_calendar("BE")
    calendar.ordinal(AS_OF)  # the holiday table is built once per process, not per report
    events = sum(len(c.events) for c in cases)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        report = compute_report(cases, FROM, TO, AS_OF, calendar, confirmations, org_units=DISTRICTS)
        best = min(best, time.perf_counter() - started)
    total = report.to_json()["total"]
    print(f"{len(cases)} cases, {NOTICES} notices, {events} events, {len(DISTRICTS)} districts")
    print("total:", {code: (r["numerator"], r["denominator"], r["percent"], r["pending"])
                     for code, r in total.items()})
    print(f"compute_report: best of 5 = {best * 1000:.0f} ms (limit {LIMIT_SECONDS * 1000:.0f} ms)")
    return 0 if best < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
