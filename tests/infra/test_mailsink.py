import smtplib
from email.message import EmailMessage

from pulse.mailsink import MailSink, read_messages


def test_each_message_is_stored_as_a_file_with_its_envelope(tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        message = EmailMessage()
        message["From"] = "pulse@example.com"
        message["To"] = "cfo@example.com"
        message["Subject"] = "Daily summary: 3 storms"
        message.set_content("Revenue is down.")
        message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="summary.pdf")
        with smtplib.SMTP(sink.host, sink.port) as client:
            client.send_message(message, to_addrs=["cfo@example.com", "hidden@example.com"])
        stored = sink.wait_for(lambda m: m["Subject"] == "Daily summary: 3 storms", timeout=10)

    assert stored["X-Envelope-To"] == "cfo@example.com, hidden@example.com"
    assert stored.get_body(("plain",)).get_content().strip() == "Revenue is down."
    attachment = next(stored.iter_attachments())
    assert attachment.get_filename() == "summary.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and "daily-summary-3-storms" in files[0].name
    assert len(read_messages(tmp_path / "mail")) == 1
