"""The organisers' steps on one registration, and on a meeting's free places. Each is the participant
journey's own function in :mod:`.registrations` (so it emits the same events, in the same transaction, and
takes places under the same lock); this module only names them, says which fits which state, and checks
that the registration belongs to the meeting in the address."""
from __future__ import annotations

import sqlalchemy as sa

from . import registrations as journey
from .models import registrations
from .places import lock_meeting

ACTIONS = ("confirm", "waitlist", "cancel", "promote")
# What the page says before (question) and after (done) the step; German, translated by the catalog.
QUESTIONS = {"confirm": "Anmeldung bestätigen?", "waitlist": "Auf die Warteliste setzen?",
             "cancel": "Anmeldung stornieren?", "promote": "Von der Warteliste nachrücken lassen?"}
LABELS = {"confirm": "Bestätigen", "waitlist": "Auf die Warteliste setzen", "cancel": "Anmeldung stornieren",
          "promote": "Nachrücken lassen"}
EXPLANATIONS = {
    "confirm": "Die Anmeldung gilt dann als bestätigt, als hätte die Person den Link in der E-Mail geöffnet; "
               "sie erhält ihre Bestätigung (oder ihren Wartelistenplatz) per E-Mail.",
    "waitlist": "Die Person gibt ihren Platz ab und kommt ans Ende der Warteliste; der Platz geht an die "
                "nächste Person in der Reihe. Sie wird per E-Mail informiert.",
    "cancel": "Die Anmeldung wird storniert und die Person per E-Mail informiert. Ein frei werdender Platz "
              "geht an die nächste Person auf der Warteliste.",
    "promote": "Die Person erhält außer der Reihe einen freien Platz und wird per E-Mail informiert. Ohne freien "
               "Platz (oder bei ausgeschöpftem Kontingent der Behörde) ist das nicht möglich.",
}
DONE = {"confirm": "Die Anmeldung ist bestätigt.", "waitlist": "Die Anmeldung steht jetzt auf der Warteliste.",
        "cancel": "Die Anmeldung ist storniert.", "promote": "Die Anmeldung hat einen Platz erhalten."}
NOT_PENDING = "Nur unbestätigte Anmeldungen können bestätigt werden."
UNKNOWN_ACTION = "Diesen Schritt gibt es nicht. Möglich sind: confirm, waitlist, cancel, promote."


class UnknownRegistration(Exception):
    pass


def possible(entry: dict) -> list[str]:
    """The steps that fit the registration's state now."""
    status, has_place = entry["status"], entry["has_place"]
    steps = []
    if status == "pending":
        steps.append("confirm")
    if status in ("pending", "waitlisted") and not has_place:
        steps.append("promote")
    if status in ("pending", "confirmed") and has_place:
        steps.append("waitlist")
    if status in ("pending", "confirmed", "waitlisted"):
        steps.append("cancel")
    return steps


def apply(engine: sa.Engine, settings, meeting_id: str, registration_id: str, action: str, *,
          correlation_id: str | None = None) -> dict:
    """Run ``action``; returns the registration's new state. Raises :class:`UnknownRegistration`,
    ``journey.NotPossible`` (with a German message) or ``journey.Busy``."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(registrations.c.id).where(
            registrations.c.id == registration_id, registrations.c.meeting_id == meeting_id)).scalar()
    if found is None:
        raise UnknownRegistration(registration_id)
    if action == "confirm":
        state = journey.confirm(engine, settings, registration_id, correlation_id=correlation_id)
        if state["manage_token"] is None:
            raise journey.NotPossible(NOT_PENDING)
        return state
    if action == "waitlist":
        return journey.move_to_waitlist(engine, settings, registration_id, correlation_id=correlation_id)
    if action == "cancel":
        return journey.cancel(engine, settings, registration_id, by="organiser", correlation_id=correlation_id)
    if action == "promote":
        return journey.promote(engine, settings, registration_id, correlation_id=correlation_id)
    raise ValueError(action)


def fill_free_places(engine: sa.Engine, settings, meeting_id: str, *, correlation_id: str | None = None) -> int:
    """Give the meeting's free places to those waiting, in order (quota permitting); how many got one."""
    with engine.begin() as tx:
        if lock_meeting(tx, meeting_id) is None:
            return 0
        return journey.fill_free_places(tx, settings, meeting_id, correlation_id=correlation_id)
