"""Personal data stays out of log lines in the first place: database errors show no parameters, email
addresses in error texts (an SMTP server's answer) are masked, and personal links' tokens are not logged."""
import json
import logging
import uuid

import pytest
import sqlalchemy as sa

from treffpunkt_registration.models import registrations
from treffpunkt_shared.db import make_engine
from treffpunkt_shared.logs import JsonFormatter, log_event
from registration_testing import confirm_link, manage_link, person, publish_meeting

CANARY = "kanarie" + uuid.uuid4().hex[:8]


def line_of(record: logging.LogRecord) -> str:
    return JsonFormatter().format(record)


def test_a_database_error_as_the_consumers_and_relays_log_it_shows_no_personal_values(settings, engine):
    own_engine = make_engine(settings.database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, own_engine.begin() as tx:
            tx.execute(registrations.insert().values(id=str(uuid.uuid4()), meeting_id="no-such-meeting",
                                                     first_name=CANARY, last_name=CANARY, email=f"{CANARY}@x.org",
                                                     email_key=f"{CANARY}@x.org", organisation="", status="pending",
                                                     privacy_notice_version="1", privacy_consent_at=sa.func.now(),
                                                     created_at=sa.func.now()))
    finally:
        own_engine.dispose()
    # What the relay, the consumer (also in the x-last-error header of a retried message) and housekeeping log.
    assert CANARY not in repr(caught.value) and CANARY not in str(caught.value)


@pytest.mark.parametrize("error", [
    "550 5.1.1 <erika.muster@auslaenderbehoerde-giessen.de>: Recipient address rejected",
    "SMTPRecipientsRefused({'Erika.Muster@Example.ORG': (550, b'no such user')})",
])
def test_an_email_address_in_a_logged_error_is_masked(error):
    record = logging.makeLogRecord({"name": "treffpunkt.notify.mail", "levelno": logging.WARNING,
                                    "levelname": "WARNING", "msg": "mail_failed", "error": error})
    line = json.loads(line_of(record))
    assert "@" not in line["error"] and "muster" not in line["error"].lower()
    assert line["event"] == "mail_failed" and "<E-Mail>" in line["error"]


def test_log_lines_keep_what_is_not_an_address(caplog):
    log = logging.getLogger("treffpunkt.test")
    with caplog.at_level(logging.INFO):
        log_event(log, "relay_retrying", error="amqp://guest:guest@127.0.0.1:5672// refused", backoff_seconds=0.4)
    assert "guest@127.0.0.1" in line_of(caplog.records[-1])


def test_request_log_lines_name_the_route_not_the_personal_links_token(client, engine, caplog):
    meeting_id = publish_meeting(engine)
    registration_id = client.post(f"/api/meetings/{meeting_id}/registrations", json=person()).json["id"]
    confirm = confirm_link(engine, registration_id)
    with caplog.at_level(logging.INFO):
        client.post(f"/api/confirmations/{confirm}")
        token = manage_link(engine, registration_id)
        client.get(f"/anmeldung/{token}/daten.json")
        client.get("/anmeldung/not-a-token/daten.json")
    lines = [line_of(r) for r in caplog.records if r.getMessage() == "http_request"]
    assert len(lines) == 3
    assert not [line for line in lines if token in line or confirm in line or "not-a-token" in line]
    assert any('"/anmeldung/<token>/daten.json"' in line for line in lines)
