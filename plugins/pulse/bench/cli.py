"""`pulse bench [--quick]`: run the benchmarks and write their results."""

from __future__ import annotations

from pathlib import Path

import click

from pulse.settings import REPO_ROOT


@click.command("bench")
@click.option("--quick", is_flag=True,
              help="A tiny company and a few thousand rows: checks the harness in minutes; figures mean little.")
@click.option("--rebuild", is_flag=True, help="Rebuild the cached companies under data/bench/ from scratch.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Default: bench/results/latest.json (full) or data/bench/quick/latest.json (quick).")
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path), default=None,
              help="Default: docs/benchmarks.md (full) or data/bench/quick/benchmarks.md (quick).")
def bench(quick: bool, rebuild: bool, json_path: Path | None, markdown_path: Path | None) -> None:
    """Measure Pulse's loader, KPI refresh, dashboard queries and daily pipeline."""
    from pulse.bench import report
    from pulse.bench.run import Plan, run_bench
    from pulse.settings import get_settings

    base = get_settings().data_dir / "bench"
    plan = Plan.quick() if quick else Plan.full()
    if quick:
        base = base / "quick"
    json_path = json_path or (base / "latest.json" if quick else REPO_ROOT / "bench" / "results" / "latest.json")
    markdown_path = markdown_path or (base / "benchmarks.md" if quick else REPO_ROOT / "docs" / "benchmarks.md")
    results = run_bench(plan, base, progress=lambda line: click.echo(line), rebuild=rebuild)
    report.write(results, json_path, markdown_path)
    missed = [t for t in report.targets(results) if not t.met]
    click.echo(f"wrote {json_path} and {markdown_path}; targets met: "
               f"{len(report.targets(results)) - len(missed)} of {len(report.targets(results))}")
    for target in missed:
        click.echo(f"  missed: {target.what}: {target.measured} (target {target.target})")
