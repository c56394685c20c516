"""docs/kpis.md, the KPI reference for readers, rendered from the registry so it cannot drift.

Regenerate after editing kpis.yml: `python -m pulse.kpi.reference` (a test compares).
"""

from __future__ import annotations

from pulse.kpi.registry import Kpi, Registry, load_registry
from pulse.settings import REPO_ROOT

REFERENCE_PATH = REPO_ROOT / "docs" / "kpis.md"

AREA_TITLES = {
    "acquisition": "Prospecting and acquisition", "audience": "Audience", "navigation": "Navigation",
    "transactions": "Transactions", "service": "Service quality", "after_sales": "After-sales and delivery",
    "catalogue": "Catalogues", "quotes": "Quotes", "sales_agents": "Sales agents", "customers": "Customers",
    "funnel": "Funnel and portal value",
}


def render_reference(registry: Registry) -> str:
    lines = [
        "# KPI reference",
        "",
        "Generated from `kpis.yml` by `python -m pulse.kpi.reference`; edit the registry, not this page.",
        f"{len(registry)} KPIs, {len(registry.summary())} on the daily summary (Σ). Conventions that hold for all:",
        "",
    ]
    lines += [f"- **{name}**: {text}" for name, text in registry.conventions.items()]
    lines += ["", "## Slices", "", "| slice | values | no value |", "|---|---|---|"]
    lines += [f"| `{s.name}` | {s.definition} | `{s.null_label}` |" for s in registry.slices.values()]
    lines += ["", "## Acquisition channel rules (first match wins)", "", "| channel | when |", "|---|---|"]
    for rule in registry.acquisition_channels:
        conditions = [f"order channel in {list(rule.order_channel)}"] if rule.order_channel else []
        conditions += ["no utm_source and no utm_medium"] if rule.utm_missing else []
        conditions += [f"utm_source in {list(rule.source)}"] if rule.source else []
        conditions += [f"utm_medium in {list(rule.medium)}"] if rule.medium else []
        lines.append(f"| {rule.channel} | {' and '.join(conditions) or 'otherwise'} |")
    for area, title in AREA_TITLES.items():
        kpis = [kpi for kpi in registry if kpi.area == area]
        if not kpis:
            continue
        lines += ["", f"## {title}", "", "| ref | id | title | kind | unit | better | target | grains | slices |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [_row(kpi) for kpi in kpis]
        lines.append("")
        for kpi in kpis:
            lines.append(f"- **`{kpi.id}`** ({', '.join(kpi.sources)}; dashboard {kpi.dashboard}"
                         f"{'; confidential' if kpi.confidential else ''}): {kpi.definition}")
            if kpi.numerator:
                parts = f"numerator: {kpi.numerator}"
                parts += f"; denominator: {kpi.denominator}" if kpi.denominator else ""
                lines.append(f"  ({parts})")
            if kpi.columns:
                lines.append(f"  Table `kpi.{kpi.table}`: {', '.join(kpi.columns)}.")
            if kpi.benchmark:
                lines.append(f"  Benchmark: {kpi.benchmark}")
            if kpi.settles_after_days:
                lines.append(f"  Judged (summary, alerts) {kpi.settles_after_days} day(s) after a period ends.")
    return "\n".join(lines) + "\n"


def _row(kpi: Kpi) -> str:
    target = ""
    if kpi.target:
        bounds = ([f">= {kpi.target.min:g}"] if kpi.target.min is not None else []) + (
            [f"<= {kpi.target.max:g}"] if kpi.target.max is not None else [])
        target = " and ".join(bounds)
    title = f"{kpi.title} Σ" if kpi.summary else kpi.title
    return (f"| {kpi.ref} | `{kpi.id}` | {title} | {kpi.kind} | {kpi.unit} | {kpi.better} | {target} | "
            f"{', '.join(kpi.grains) or 'as of now'} | {', '.join(kpi.slices)} |")


if __name__ == "__main__":
    REFERENCE_PATH.write_text(render_reference(load_registry()), encoding="utf-8")
    print(f"wrote {REFERENCE_PATH}")
