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


def test_a_field_the_consumer_does_not_know_yet_is_left_out_at_any_depth_so_services_upgrade_in_any_order():
    payload = registration_payload(rounds=[{"item_id": "r1", "title": "Identitätsklärung",
                                            "starts_at": "2016-09-16T09:00:00+00:00",
                                            "ends_at": "2016-09-16T10:30:00+00:00"}])
    newer = {**payload, "badge_colour": "grün",
             "participant": {**payload["participant"], "pronouns": "sie/ihr"},
             "rounds": [{**r, "table": 4} for r in payload["rounds"]]}
    envelope = make_envelope(REGISTRATION_CONFIRMED, payload, producer="registration")
    _, _, loaded = parse_envelope(encode({**envelope, "payload": newer}), "application/json")
    assert "badge_colour" not in loaded and "pronouns" not in loaded["participant"]
    assert loaded["participant"]["email"] == payload["participant"]["email"]
    assert [r["item_id"] for r in loaded["rounds"]] == ["r1"] and "table" not in loaded["rounds"][0]


def test_with_unknown_fields_left_out_a_payload_still_has_to_meet_the_contract():
    payload = registration_payload()
    broken = {**payload, "badge_colour": "grün", "participant": {**payload["participant"], "email": "keine"}}
    envelope = make_envelope(REGISTRATION_CONFIRMED, payload, producer="registration")
    with pytest.raises(RejectedMessage, match="email"):
        parse_envelope(encode({**envelope, "payload": broken}), "application/json")


def test_a_producer_cannot_send_a_field_its_own_contract_lacks():
    with pytest.raises(Exception, match="Unknown field"):
        make_envelope(REGISTRATION_CONFIRMED, {**registration_payload(), "badge_colour": "grün"},
                      producer="registration")
