import json
import uuid

import pytest

from treffpunkt_shared.testing import registration_payload
from treffpunkt_shared.contracts import (MEETING_PUBLISHED, REGISTRATION_CONFIRMED, RejectedMessage, encode,
                                         make_envelope, parse_envelope)


def test_an_envelope_made_by_the_publisher_is_accepted_by_the_consumer():
    body = encode(make_envelope(REGISTRATION_CONFIRMED, registration_payload(), producer="registration",
                                correlation_id="abc"))
    envelope, contract, payload = parse_envelope(body, "application/json")
    assert contract is REGISTRATION_CONFIRMED
    assert envelope.correlation_id == "abc"
    assert payload["participant"]["email"] == "erika@example.org"


def test_a_publisher_cannot_publish_a_payload_no_consumer_would_accept():
    with pytest.raises(Exception):
        make_envelope(MEETING_PUBLISHED, {"title": "no dates"}, producer="agenda")


@pytest.mark.parametrize("body, content_type, reason", [
    (b"\xff\xfe not json", "application/json", "not JSON"),
    (b"[1, 2]", "application/json", "not a JSON object"),
    (b'{"id": "x"}', "application/json", "invalid envelope"),
    (b"{}", "text/plain", "unsupported content type"),
])
def test_a_message_that_cannot_be_decoded_is_rejected_with_its_reason(body, content_type, reason):
    with pytest.raises(RejectedMessage, match=reason):
        parse_envelope(body, content_type)


def test_an_unknown_type_or_a_newer_version_is_rejected_with_its_reason():
    envelope = make_envelope(REGISTRATION_CONFIRMED, registration_payload(), producer="registration")
    with pytest.raises(RejectedMessage, match="unknown message type"):
        parse_envelope(encode({**envelope, "type": "registration.teleported"}), "application/json")
    with pytest.raises(RejectedMessage, match="unsupported version 2"):
        parse_envelope(encode({**envelope, "version": 2}), "application/json")


def test_a_payload_missing_a_field_is_rejected_naming_the_field():
    envelope = make_envelope(REGISTRATION_CONFIRMED, registration_payload(), producer="registration")
    del envelope["payload"]["participant"]["email"]
    with pytest.raises(RejectedMessage, match="email"):
        parse_envelope(json.dumps(envelope).encode(), "application/json")


def test_a_correlation_id_longer_than_the_tables_keep_is_rejected_at_once_naming_the_field():
    # Unchecked, it would fail every insert of the consumer's transaction and be retried as if transient.
    envelope = make_envelope(REGISTRATION_CONFIRMED, registration_payload(), producer="registration")
    accepted, _, _ = parse_envelope(encode({**envelope, "correlation_id": "c" * 64}), "application/json")
    assert accepted.correlation_id == "c" * 64
    with pytest.raises(RejectedMessage, match="correlation_id"):
        parse_envelope(encode({**envelope, "correlation_id": "c" * 65}), "application/json")
