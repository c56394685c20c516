"""Superset as code: the asset bundle in `superset_assets/`, generated from the KPI registry
(`assets/`), deployed and exported through Superset's REST API (`sync.py`, `export.py`)."""
