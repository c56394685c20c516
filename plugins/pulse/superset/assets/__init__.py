"""Generation of the Superset bundle from the KPI registry: datasets on the KPI layer, one chart
per KPI, the dashboards and their native filters (`pulse superset generate`)."""
