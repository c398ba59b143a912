"""Benchmarks at portfolio scale: ``python -m benchmarks`` prints one table (#7).

Each figure runs on demo portfolios of several sizes and is reported as the median
of several runs after a warm-up, with the fastest and slowest run. The table is
also written as CSV under ``benchmarks/results/``.
"""
