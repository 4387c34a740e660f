"""Start-up time: ``create_app()`` wall time in a fresh process, as a web worker starts
(FAB_UPDATE_PERMS off), with the shipped config and with a generated 40-entity config.

Run as a probe: ``python -m bench.startup CONFIG_DIR DATABASE_URL`` prints the times as JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .dataset import ROOT
from .measure import Series


def probe(config_dir: str, url: str) -> dict:
    started = time.perf_counter()
    from app import create_app
    imported = time.perf_counter()
    create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "FACHSTELLE_CITY": None,
                "FAB_UPDATE_PERMS": False, "FACHSTELLE_CONFIG_DIR": config_dir})
    done = time.perf_counter()
    return {"import_s": imported - started, "create_app_s": done - imported}


def _run(config_dir: Path, url: str, workdir: Path) -> tuple[dict, float]:
    env = {**os.environ, "FACHSTELLE_INSTANCE_DIR": str(workdir / "instance"),
           "FACHSTELLE_MIGRATIONS_DIR": str(workdir), "FAB_UPDATE_PERMS": "False"}
    env.pop("FACHSTELLE_CITY", None)
    # The warm-up run writes the .pyc files a deployed worker has (a shell with PYTHONDONTWRITEBYTECODE set
    # would otherwise make every measured start compile the app's newer modules again).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.startup", str(config_dir), url], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"Start mit {config_dir} fehlgeschlagen:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def measure_startup(bench, runs: int, wanted: set[str], command: str) -> list[dict]:
    from .gen_config import generate
    from .run import TARGET_STARTUP_S

    configs = []
    if not wanted or wanted & {"startup", "startup_shipped"}:
        configs.append(("startup_shipped", "Start create_app(), ausgelieferte Konfiguration",
                        ROOT / "config", bench.url))
    if not wanted or wanted & {"startup", "startup_40"}:
        config40 = generate(bench.workdir / "config40", 40)
        # The generated entities have no tables in the benchmark database: start against an empty one.
        configs.append(("startup_40", "Start create_app(), generierte Konfiguration (40 Seiten)", config40,
                        f"sqlite:///{bench.workdir / 'startup40.db'}"))
    rows = []
    for name, label, config_dir, url in configs:
        _run(config_dir, url, bench.workdir)  # warm the file system cache and .pyc files
        series, walls, imports = Series(), [], []
        for _ in range(runs):
            times, wall = _run(config_dir, url, bench.workdir)
            series.samples.append(times["create_app_s"])
            walls.append(wall)
            imports.append(times["import_s"])
        walls.sort()
        rows.append({"name": name, "label": label, "app_median_ms": series.median_ms, "app_p95_ms": series.p95_ms,
                     "ref_median_ms": None, "ref_p95_ms": None, "ratio": None, "queries": 0, "ref_queries": None,
                     "target_ms": TARGET_STARTUP_S * 1000, "met": series.p95_ms <= TARGET_STARTUP_S * 1000,
                     "command": f"{command} --only {name}",
                     "note": f"ganzer Prozess (Python-Start, Importe, create_app) Median {walls[len(walls) // 2]:.2f} s"})
    return rows


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], sys.argv[2])))
