"""Airflow: one extract DAG per source in `pulse.sources.SOURCES`: `extract_<source>`, on the source's own
cadence (`pulse.orchestration.cadences`). Adding a source to SOURCES and a cadence is all it takes."""

from pulse.orchestration.extract_dag import build_extract_dag
from pulse.sources import SOURCES

for _source in SOURCES:
    globals()[f"extract_{_source}"] = build_extract_dag(_source)
