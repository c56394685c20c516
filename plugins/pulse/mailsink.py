"""A local SMTP server that stores every message it receives as an `.eml` file.

The demo points Airflow's failure mails and Superset's reports at it, so nothing leaves the
machine; tests read the files back. Point PULSE_SMTP_* (and Superset's SMTP_*) at a real server
to send real mail.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import click
from aiosmtpd.controller import Controller

from pulse.settings import get_settings


class _StoreHandler:
    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._counter = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        # keep the SMTP envelope: Bcc recipients only exist there
        message["X-Envelope-From"] = envelope.mail_from
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self._counter += 1
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            slug = re.sub(r"[^a-z0-9]+", "-", str(message.get("Subject", "")).lower()).strip("-")[:60]
            path = self.directory / f"{stamp}-{self._counter:04d}-{slug or 'no-subject'}.eml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(message.as_bytes())
            temporary.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


class MailSink:
    """Run the sink in a background thread: `with MailSink(directory, port=0) as sink: ...`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if port == 0:
            import socket

            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.host, self.port = host, port
        self._controller = Controller(_StoreHandler(self.directory), hostname=host, port=port)

    def __enter__(self) -> MailSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.directory)

    def wait_for(self, predicate, timeout: float = 60.0) -> EmailMessage:
        """The first stored message satisfying `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.messages()]
                raise TimeoutError(f"no matching mail within {timeout:.0f}s; received: {subjects}")
            time.sleep(0.5)


def read_messages(directory: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(Path(directory).glob("*.eml"))
    ]


@click.command("mailsink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="default: PULSE_SMTP_PORT")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help="default: data/mail")
def mailsink(host: str, port: int | None, directory: Path | None) -> None:
    """Run the local SMTP sink in the foreground; each message becomes a file."""
    settings = get_settings()
    directory = directory or settings.data_dir / "mail"
    with MailSink(directory, host=host, port=port or settings.smtp_port) as sink:
        click.echo(f"mail sink on {sink.host}:{sink.port}, writing to {directory}")
        threading.Event().wait()
