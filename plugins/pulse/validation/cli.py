"""`pulse validation` (suites, reconciliation) and `pulse datadocs` (build and serve the GX Data
Docs the data-health dashboard links to)."""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import click

from pulse.settings import get_settings


@click.group("validation")
def validation() -> None:
    """Expectation suites and cross-source reconciliation."""


@validation.command("suites")
@click.option("--write", is_flag=True, help="(re)write every suite file that is missing or out of date")
def suites_command(write: bool) -> None:
    """Check (default) or write `expectations/<source>.<stream>.json` from the stream contracts
    and `pulse.validation.stream_rules`."""
    from pulse.sources import all_streams
    from pulse.validation import suites

    streams = all_streams()
    if write:
        for path in suites.write(streams):
            click.echo(f"wrote {path.relative_to(get_settings().home)}")
    problems = suites.out_of_date(streams)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(streams)} suites match their streams")


@validation.command("reconcile")
@click.option("--days", type=int, default=None, help="recent business days to check (default: PULSE_RECONCILE_DAYS)")
def reconcile_command(days: int | None) -> None:
    """Check sources against each other on the warehouse; store the results."""
    from pulse.validation import reconcile

    outcome = reconcile.run(days=days)
    for result in outcome.results:
        verdict = {True: "ok", False: "FAILED", None: "not judged"}[result.success]
        click.echo(f"{result.day} {result.check:<28} expected={_number(result.expected)} "
                   f"observed={_number(result.observed)} ratio={_number(result.ratio)} {verdict}")
    for skipped in outcome.skipped:
        click.echo(f"skipped {skipped}")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@click.group("datadocs")
def datadocs() -> None:
    """GX Data Docs: every validation result, rendered as a static site."""


@datadocs.command("build")
def build() -> None:
    """Rebuild the whole Data Docs site."""
    from pulse.validation import engine

    click.echo(engine.build_data_docs())


@datadocs.command("serve")
@click.option("--host", default=None, help="default: the host of PULSE_DATA_DOCS_URL")
@click.option("--port", type=int, default=None, help="default: the port of PULSE_DATA_DOCS_URL")
def serve(host: str | None, port: int | None) -> None:
    """Serve the Data Docs folder over HTTP until interrupted (the demo binds 127.0.0.1)."""
    from pulse.validation import engine

    url = urlsplit(get_settings().data_docs_url)
    host = host or url.hostname or "127.0.0.1"
    port = port if port is not None else (url.port or 8090)
    folder = engine.data_docs_dir()
    if not (folder / "index.html").exists():
        engine.build_data_docs()
    server = make_server(host, port)
    click.echo(f"GX Data Docs: http://{host}:{server.server_address[1]}/ (folder {folder})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    from pulse.validation import engine

    folder = engine.data_docs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return ThreadingHTTPServer((host, port), functools.partial(_QuietHandler, directory=str(folder)))
