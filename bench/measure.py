"""Timing and SQL counting: median and p95 after warm-up, statements per request."""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

from sqlalchemy import event


class StatementCounter:
    """Counts (and optionally keeps) every statement the engine sends, via ``before_cursor_execute``."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.keep = False
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append((statement, parameters))

    def reset(self, keep: bool = False) -> None:
        self.count = 0
        self.keep = keep
        self.statements = []

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (p95 of 40 samples is the 38th smallest)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Series:
    samples: list[float] = field(default_factory=list)  # seconds
    queries: list[int] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples, 0.95) * 1000

    @property
    def queries_per_call(self) -> int:
        return max(self.queries) if self.queries else 0


def timed(call, counter: StatementCounter | None) -> tuple[float, int, object]:
    if counter:
        counter.reset()
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    return elapsed, (counter.count if counter else 0), result


def compare(app_call, ref_call, counter, warmup: int, repeat: int) -> tuple[Series, Series | None]:
    """Warm up, then alternate app and reference so that drift (cache, autovacuum) hits both alike."""
    app_series, ref_series = Series(), Series() if ref_call else None
    for _ in range(warmup):
        app_call()
        if ref_call:
            ref_call()
    for _ in range(repeat):
        elapsed, queries, _ = timed(app_call, counter)
        app_series.samples.append(elapsed)
        app_series.queries.append(queries)
        if ref_call:
            elapsed, queries, _ = timed(ref_call, counter)
            ref_series.samples.append(elapsed)
            ref_series.queries.append(queries)
    return app_series, ref_series
