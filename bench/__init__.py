"""Benchmarks of issue 3 §10: the generated app beside a plain SQLAlchemy + Jinja reference.

Run ``python -m bench.run --help``; results are written up in BENCHMARKS.md.
"""
