"""Airflow for the DAG tests: the throw-away AIRFLOW_HOME and metadata database of tests/conftest.py,
the repository's `dags/` folder, and DAGs run with `dag.test()` in this process."""

from __future__ import annotations

import pytest

from dags.airflow_harness import REPO


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    """The DAG folder as Airflow's DAG processor loads it."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))
