"""What each mail of the catalogue says and to whom: the template context and the finished message.

Every builder returns a :class:`Prepared` mail (recipient, logical key, rendered message) or raises
:class:`RejectedMessage` when the data the template needs is missing; nothing here touches the database or
the broker, so the handlers, the scheduler and the organisers' preview page all share it.

Logical keys say what a mail is *about*, so a second event, a second worker or a restart cannot send it
twice: ``<kind>:<meeting>:<registration>:<version>`` where the version is the registration's sequence, the
agenda's revisions, the reminder's day, the broadcast's id, … (see each builder).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape

from treffpunkt_shared.contracts import json_ready

from .emails import build_message, render
from .invitations import invitation

STATUS_DE = {"pending": "unbestätigt", "confirmed": "bestätigt", "waitlisted": "Warteliste",
             "cancelled": "storniert", "expired": "verfallen"}
FIELDS_EN = {"title": "title", "description": "description", "capacity": "capacity",
             "guiding_questions": "guiding questions", "documents": "documents", "kind": "kind"}
FIELDS_DE = {"title": "Titel", "description": "Beschreibung", "capacity": "Plätze",
             "guiding_questions": "Leitfragen", "documents": "Unterlagen", "kind": "Art"}


@dataclass(frozen=True)
class Prepared:
    kind: str
    logical_key: str
    recipient: str
    subject: str
    message: bytes
    meeting_id: str | None
    registration_id: str | None


def _dt(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def links_of(links: dict | None) -> dict:
    """All three links, None where the event has none (templates test them with ``{% if %}``)."""
    links = links or {}
    return {name: links.get(name) for name in ("confirm_url", "manage_url", "calendar_url")}


def full_name(participant: dict) -> str:
    return f"{participant['first_name']} {participant['last_name']}"


def _finish(settings, kind: str, key: str, *, context: dict, recipient_email: str, recipient_name: str,
            meeting_id, registration_id, calendar: bytes | None = None, method: str = "REQUEST") -> Prepared:
    subject, text, html = render(kind, json_ready(context))
    message = build_message(sender=settings.mail_from, recipient_name=recipient_name,
                            recipient_email=recipient_email, subject=subject, text=text, html=html,
                            calendar=calendar, calendar_method=method)
    return Prepared(kind, key[:200], recipient_email, subject, message,
                    str(meeting_id) if meeting_id else None, str(registration_id) if registration_id else None)


def current_rounds(rounds: list[dict], items: list[dict] | None) -> list[dict]:
    """The participant's rounds with the times and rooms of the newest agenda (the registration's copy may
    be older than a change), and ``cancelled`` where the agenda dropped or cancelled one."""
    by_id = {i["item_id"]: i for i in (items or [])}
    out = []
    for r in rounds:
        item = by_id.get(r["item_id"])
        current = dict(r)
        if item is not None:
            current.update(title=item["title"], starts_at=item["starts_at"], ends_at=item["ends_at"],
                           room=item.get("room"), cancelled=item.get("status") == "cancelled")
        elif items is not None:
            current["cancelled"] = True
        out.append(current)
    return out


def calendar_sequence(registration_sequence: int, meeting_revision: int, agenda_revision: int) -> int:
    # Each part only grows, so the sum grows with every change a calendar must take over.
    return int(registration_sequence or 0) + int(meeting_revision or 0) + int(agenda_revision or 0)


# ------------------------------------------------------------------------------------------ registration
REGISTRATION_MAILS = {
    "registration.received": "registration_received",
    "registration.confirmed": "registration_confirmed",
    "registration.waitlisted": "registration_waitlisted",
    "registration.promoted": "registration_promoted",
    "registration.updated": "registration_updated",
    "registration.cancelled": "registration_cancelled",
    "registration.link_requested": "registration_link_requested",
}
# These say "this is your registration now": an older one arriving after a newer state is not sent.
STATE_MAILS = {"registration_received", "registration_confirmed", "registration_waitlisted",
               "registration_promoted", "registration_updated"}
WITH_INVITATION = {"registration_confirmed", "registration_promoted", "registration_updated"}


def registration_mail(settings, kind: str, payload: dict, *, envelope_id: str, meeting_revision: int = 0,
                      agenda_revision: int = 0, agenda_items: list[dict] | None = None) -> Prepared:
    registration_id = str(payload["registration_id"])
    meeting = payload["meeting"]
    participant = payload["participant"]
    rounds = current_rounds(payload.get("rounds") or [], agenda_items)
    links = links_of(payload.get("links"))
    sequence = payload.get("sequence") or 1
    calendar, method = None, "REQUEST"
    ical_sequence = calendar_sequence(sequence, meeting_revision, agenda_revision)
    if kind in WITH_INVITATION and payload["status"] == "confirmed":
        calendar = invitation(meeting=meeting, registration_id=registration_id, participant=participant,
                              rounds=[r for r in rounds if r.get("held", True)], sequence=ical_sequence,
                              organiser=settings.mail_from, manage_url=links.get("manage_url"))
    calendar_cancel = kind == "registration_cancelled" and payload.get("previous_status") in (None, "confirmed")
    if calendar_cancel:
        calendar, method = invitation(meeting=meeting, registration_id=registration_id, participant=participant,
                                      rounds=[r for r in rounds if r.get("held", True)], sequence=ical_sequence,
                                      organiser=settings.mail_from, method="CANCEL"), "CANCEL"
    version = envelope_id if kind == "registration_link_requested" else sequence
    context = {**payload, "rounds": rounds, "links": links, "calendar_cancel": calendar_cancel,
               "has_invitation": calendar is not None and method == "REQUEST"}
    return _finish(settings, kind, f"{kind}:{meeting['meeting_id']}:{registration_id}:{version}",
                   context=context, recipient_email=participant["email"], recipient_name=full_name(participant),
                   meeting_id=meeting["meeting_id"], registration_id=registration_id, calendar=calendar,
                   method=method)


# ------------------------------------------------------------------------------------------ recipients
def _recipient_context(recipient) -> dict:
    return {"participant": recipient.participant, "links": links_of(recipient.links),
            "registration_id": recipient.registration_id}


def _mine(recipient) -> set[str]:
    return {r["item_id"] for r in (recipient.rounds or []) if r.get("held", True)}


def agenda_published_mail(settings, meeting: dict, agenda: dict, recipient) -> Prepared:
    items = agenda["items"]
    context = {**_recipient_context(recipient), "meeting": meeting, "items": items,
               "my_round_ids": sorted(_mine(recipient)),
               "rounds": current_rounds(recipient.rounds or [], items)}
    return _finish(settings, "agenda_published",
                   f"agenda_published:{meeting['meeting_id']}:{recipient.registration_id}:{agenda['revision']}",
                   context=context, recipient_email=recipient.participant["email"],
                   recipient_name=full_name(recipient.participant), meeting_id=meeting["meeting_id"],
                   registration_id=recipient.registration_id)


def merge_changes(groups: list[list[dict]]) -> list[dict]:
    """Several edits (each a list of item changes, oldest first) as one change per item: first "from",
    last "to"; an item added and removed again within the window drops out; a move back is no move."""
    merged: dict[str, dict] = {}
    order: list[str] = []
    for changes in groups:
        for c in changes:
            key = c["item_id"]
            m = merged.get(key)
            if m is None:
                merged[key] = m = {"item_id": key, "title": c["title"], "kind": c["kind"], "change": c["change"],
                                   "moved": c.get("moved"), "room": c.get("room"),
                                   "speakers_added": list(c.get("speakers_added") or []),
                                   "speakers_removed": list(c.get("speakers_removed") or []),
                                   "moderators_added": list(c.get("moderators_added") or []),
                                   "moderators_removed": list(c.get("moderators_removed") or []),
                                   "fields_changed": dict(c.get("fields_changed") or {}),
                                   "item": c["item"], "first_change": c["change"]}
                order.append(key)
                continue
            m["title"], m["item"] = c["title"], c["item"]
            if c["change"] != "updated":
                m["change"] = c["change"]
            for part in ("moved", "room"):
                if c.get(part):
                    m[part] = {"from": (m[part] or c[part])["from"], "to": c[part]["to"]}
            for people in ("speakers_added", "speakers_removed", "moderators_added", "moderators_removed"):
                m[people] += [p for p in c.get(people) or [] if p not in m[people]]
            for name, values in (c.get("fields_changed") or {}).items():
                before = m["fields_changed"].get(name, values)
                m["fields_changed"][name] = {"from": before.get("from"), "to": values.get("to")}
    out = []
    for key in order:
        m = merged[key]
        if m["first_change"] == "added" and m["change"] == "removed":
            continue
        if m["first_change"] == "added":
            m["change"] = "added" if m["change"] in ("added", "updated") else m["change"]
        if m["moved"] and m["moved"]["from"] == m["moved"]["to"]:
            m["moved"] = None
        if m["room"] and m["room"]["from"] == m["room"]["to"]:
            m["room"] = None
        for a, r in (("speakers_added", "speakers_removed"), ("moderators_added", "moderators_removed")):
            both = [p for p in m[a] if p in m[r]]
            m[a] = [p for p in m[a] if p not in both]
            m[r] = [p for p in m[r] if p not in both]
        m["fields_changed"] = {k: v for k, v in m["fields_changed"].items() if v.get("from") != v.get("to")}
        if m["change"] == "updated" and not any((m["moved"], m["room"], m["speakers_added"], m["speakers_removed"],
                                                 m["moderators_added"], m["moderators_removed"],
                                                 m["fields_changed"])):
            continue  # changed and changed back
        out.append(m)
    return out


def agenda_changed_mail(settings, meeting: dict, merged: list[dict], *, from_revision: int, to_revision: int,
                        times_changed: bool, recipient, agenda_items: list[dict], meeting_revision: int) -> Prepared:
    mine = _mine(recipient)
    changes = []
    for m in merged:
        c = dict(m, mine=m["item_id"] in mine)
        c["fields"] = [FIELDS_DE.get(f, f) for f in m["fields_changed"]]
        c["fields_en"] = [FIELDS_EN.get(f, f) for f in m["fields_changed"]]
        changes.append(c)
    changes.sort(key=lambda c: not c["mine"])  # stable: the participant's rounds first, else agenda order
    rounds = current_rounds(recipient.rounds or [], agenda_items)
    calendar = None
    touches_mine = any(c["mine"] and (c["moved"] or c["change"] in ("removed", "cancelled", "reinstated"))
                       for c in changes)
    if times_changed and touches_mine and recipient.status == "confirmed":
        calendar = invitation(meeting=meeting, registration_id=recipient.registration_id,
                              participant=recipient.participant,
                              rounds=[r for r in rounds if r.get("held", True)],
                              sequence=calendar_sequence(recipient.sequence, meeting_revision, to_revision),
                              organiser=settings.mail_from, manage_url=(recipient.links or {}).get("manage_url"))
    context = {**_recipient_context(recipient), "meeting": meeting, "changes": changes,
               "mine_count": sum(1 for c in changes if c["mine"]), "calendar": calendar is not None}
    return _finish(settings, "agenda_changed",
                   f"agenda_changed:{meeting['meeting_id']}:{recipient.registration_id}:{from_revision}-{to_revision}",
                   context=context, recipient_email=recipient.participant["email"],
                   recipient_name=full_name(recipient.participant), meeting_id=meeting["meeting_id"],
                   registration_id=recipient.registration_id, calendar=calendar)


def reminder_mail(settings, meeting: dict, days: int, recipient, agenda_items: list[dict] | None) -> Prepared:
    items = [i for i in agenda_items or []]
    context = {**_recipient_context(recipient), "meeting": meeting, "days": days, "items": items,
               "my_round_ids": sorted(_mine(recipient)),
               "rounds": current_rounds(recipient.rounds or [], agenda_items)}
    return _finish(settings, "reminder", f"reminder:{meeting['meeting_id']}:{recipient.registration_id}:{days}d",
                   context=context, recipient_email=recipient.participant["email"],
                   recipient_name=full_name(recipient.participant), meeting_id=meeting["meeting_id"],
                   registration_id=recipient.registration_id)


def round_results_mail(settings, payload: dict, recipient) -> Prepared:
    meeting, round_ = payload["meeting"], payload["round"]
    version = _dt(payload["published_at"]).strftime("%Y%m%dT%H%M%S")
    context = {**_recipient_context(recipient), "meeting": meeting, "round": round_, "result": payload["result"]}
    return _finish(settings, "round_results",
                   f"round_results:{meeting['meeting_id']}:{recipient.registration_id}:{round_['item_id']}:{version}",
                   context=context, recipient_email=recipient.participant["email"],
                   recipient_name=full_name(recipient.participant), meeting_id=meeting["meeting_id"],
                   registration_id=recipient.registration_id)


def broadcast_mail(settings, meeting: dict, broadcast, recipient, *, rendered: dict | None = None) -> Prepared:
    """``rendered``: a dict the caller keeps for one broadcast (the scheduler: per chunk). The broadcast is then
    rendered once per combination of links present, with markers where each recipient's name and links go,
    and each mail only puts those in (escaped for HTML as the template would). The same text as rendering it
    per recipient (tested), for a fraction of the CPU of 5,000 renders."""
    key = f"broadcast:{meeting['meeting_id']}:{recipient.registration_id}:{broadcast.id}"
    participant, links = recipient.participant, links_of(recipient.links)
    personal = {"first_name": participant.get("first_name"), "last_name": participant.get("last_name"),
                **{name: value for name, value in links.items() if value}}
    if rendered is None or any(not isinstance(v, str) or _MARK in v for v in personal.values()):
        context = {**_recipient_context(recipient), "meeting": meeting, "subject": broadcast.subject,
                   "body": broadcast.body, "sender_name": broadcast.created_by}
        return _finish(settings, "broadcast", key, context=context, recipient_email=participant["email"],
                       recipient_name=full_name(participant), meeting_id=meeting["meeting_id"],
                       registration_id=recipient.registration_id)
    shape = tuple(sorted(name for name, value in links.items() if value))
    if shape not in rendered:
        marked = {name: f"{_MARK}{name}{_MARK}" for name in personal}
        context = {"participant": {**participant, "first_name": marked["first_name"],
                                   "last_name": marked["last_name"]},
                   "links": {name: marked.get(name) for name in links},
                   "registration_id": recipient.registration_id, "meeting": meeting,
                   "subject": broadcast.subject, "body": broadcast.body, "sender_name": broadcast.created_by}
        rendered[shape] = render("broadcast", json_ready(context))
    subject, text, html = rendered[shape]
    for name, value in personal.items():
        mark = f"{_MARK}{name}{_MARK}"
        subject, text, html = (subject.replace(mark, value), text.replace(mark, value),
                               html.replace(mark, str(escape(value))))
    message = build_message(sender=settings.mail_from, recipient_name=full_name(participant),
                            recipient_email=participant["email"], subject=subject, text=text, html=html)
    return Prepared("broadcast", key[:200], participant["email"], subject, message, str(meeting["meeting_id"]),
                    str(recipient.registration_id))


# Marks the places of a recipient's values in a broadcast rendered once (a private-use character, which
# neither escaping nor the templates change and no name or link contains).
_MARK = "\ue000"


# ------------------------------------------------------------------------------------------ organisers
def digest_mail(settings, meeting: dict, organiser: dict, *, since, until, new: list, cancelled: list,
                counts: dict) -> Prepared:
    def line(r):
        return {"name": full_name(r.participant), "organisation": r.organisation,
                "status_de": STATUS_DE.get(r.status, r.status), "registration_id": r.registration_id}

    context = {"meeting": meeting, "organiser": organiser, "since": since, "until": until,
               "new": [line(r) for r in new], "cancelled": [line(r) for r in cancelled], "counts": counts}
    return _finish(settings, "organiser_digest",
                   f"organiser_digest:{meeting['meeting_id']}:{organiser['email']}:{_dt(until):%Y-%m-%dT%H}",
                   context=context, recipient_email=organiser["email"],
                   recipient_name=organiser.get("name") or "", meeting_id=meeting["meeting_id"],
                   registration_id=None)


def mail_failed_mail(settings, meeting: dict, organiser: dict, failed: dict) -> Prepared:
    context = {"meeting": meeting, "organiser": organiser, "failed": failed}
    return _finish(settings, "organiser_mail_failed",
                   f"organiser_mail_failed:{failed['mail_id']}:{organiser['email']}",
                   context=context, recipient_email=organiser["email"], recipient_name=organiser.get("name") or "",
                   meeting_id=meeting["meeting_id"], registration_id=failed.get("registration_id"))
