"""`make bench` / `pulse bench`: how fast Pulse is against what a data team would otherwise use.

Loader throughput against `pandas.DataFrame.to_sql` and the engines' bulk paths, the one-day KPI
refresh at a short and a long history, dashboard query times against computing the KPIs from the
facts, and the daily pipeline's wall time and peak task memory, on DuckDB and PostgreSQL. Results
go to `bench/results/latest.json` and `docs/benchmarks.md`; see `pulse.bench.run`.
"""

PLANS = ("quick", "standard", "full")  # the named plans of `pulse.bench.run.Plan`
