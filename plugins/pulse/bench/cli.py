"""`pulse bench [--plan quick|standard|full]`: run the benchmarks and write their results."""

from __future__ import annotations

from pathlib import Path

import click

from pulse.bench import PLANS
from pulse.settings import REPO_ROOT


@click.command("bench")
@click.option("--plan", "plan_name", type=click.Choice(PLANS), default="standard", show_default=True,
              help="How much to measure: quick checks the harness in minutes; standard is scale 1 over three "
                   "years (about half an hour on 2 cores); full is scale 10 over three years (about two hours and a quarter from scratch on 2 cores).")
@click.option("--quick", is_flag=True, help="Same as --plan quick.")
@click.option("--rebuild", is_flag=True, help="Rebuild the cached companies under data/bench/ from scratch.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Default: bench/results/latest.json, or data/bench/quick/latest.json for the quick plan.")
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path), default=None,
              help="Default: docs/benchmarks.md, or data/bench/quick/benchmarks.md for the quick plan.")
def bench(plan_name: str, quick: bool, rebuild: bool, json_path: Path | None, markdown_path: Path | None) -> None:
    """Measure Pulse's loader, KPI refresh, dashboard queries and daily pipeline."""
    from pulse.bench import report
    from pulse.bench.run import Plan, run_bench
    from pulse.settings import get_settings

    plan = Plan.named("quick" if quick else plan_name)
    base = get_settings().data_dir / "bench"
    if plan.mode == "quick":
        base = base / "quick"
    json_path = json_path or (base / "latest.json" if plan.mode == "quick"
                              else REPO_ROOT / "bench" / "results" / "latest.json")
    markdown_path = markdown_path or (base / "benchmarks.md" if plan.mode == "quick"
                                      else REPO_ROOT / "docs" / "benchmarks.md")
    results = run_bench(plan, base, progress=lambda line: click.echo(line), rebuild=rebuild)
    report.write(results, json_path, markdown_path)
    missed = [t for t in report.targets(results) if not t.met]
    click.echo(f"wrote {json_path} and {markdown_path}; targets met: "
               f"{len(report.targets(results)) - len(missed)} of {len(report.targets(results))}")
    for target in missed:
        click.echo(f"  missed: {target.what}: {target.measured} (target {target.target})")
