"""Operations on a meeting's programme: agenda items, discussion rounds, documents, publishing the agenda.

Every operation locks the meeting row first, so the changes of one meeting are serialised. Once the agenda is
published, each operation ends in :func:`announce_agenda_change`: the new agenda is checked (a change that
would make it wrong is refused and nothing is saved), compared with the last published state, and the exact
difference goes out as ``agenda.changed`` in the same transaction.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from treffpunkt_shared.contracts import AGENDA_CHANGED, AGENDA_PUBLISHED, ROUND_KINDS, ROUND_RESULTS_PUBLISHED, \
    json_ready
from treffpunkt_shared.http import InvalidInput
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc, aware, utcnow

from .checks import Problem, errors, find_problems
from .diff import diff_agendas, times_changed
from .meetings import EDITABLE, PRODUCER, MeetingNotEditable, VISIBLE_TO_PARTICIPANTS
from .models import agenda_items, documents, item_people, meetings, outbox, rooms
from .snapshot import agenda_state, load_items, load_meeting, meeting_snapshot


class ItemNotFound(Exception):
    pass


class AgendaHasProblems(Exception):
    """Publishing (or changing a published agenda) would make it wrong."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class NotPossible(Exception):
    """A request that is understood but cannot be done in the current state; the text says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _lock_editable(tx: sa.Connection, meeting_id: str) -> dict:
    meeting = load_meeting(tx, meeting_id, for_update=True)
    if meeting["status"] not in EDITABLE:
        raise MeetingNotEditable(meeting["status"])
    return meeting


def _item_row(tx: sa.Connection, meeting_id: str, item_id: str):
    row = tx.execute(sa.select(agenda_items).where(agenda_items.c.id == item_id,
                                                   agenda_items.c.meeting_id == meeting_id)).first()
    if row is None:
        raise ItemNotFound(item_id)
    return row


def _check_room(tx: sa.Connection, meeting_id: str, room_id: str | None) -> None:
    if room_id is None:
        return
    found = tx.execute(sa.select(rooms.c.id).where(rooms.c.id == room_id, rooms.c.meeting_id == meeting_id)).first()
    if not found:
        raise InvalidInput({"room_id": ["Diesen Raum gibt es bei diesem Treffen nicht. / "
                                        "This meeting has no such room."]})


def _item_values(meeting: dict, data: dict) -> dict:
    starts = as_utc(aware(data["starts_at"], meeting["timezone"]))
    ends = as_utc(aware(data["ends_at"], meeting["timezone"]))
    if ends <= starts:
        raise InvalidInput({"ends_at": ["Das Ende muss nach dem Beginn liegen. / The end must be after the start."]})
    return {"kind": data["kind"], "title": data["title"], "description": data["description"],
            "starts_at": starts, "ends_at": ends, "room_id": data["room_id"], "capacity": data["capacity"],
            "guiding_questions": list(data["guiding_questions"])}


def _replace_people(tx: sa.Connection, item_id: str, data: dict) -> None:
    tx.execute(item_people.delete().where(item_people.c.item_id == item_id))
    rows = [{"item_id": item_id, "role": role, "position": i, **person}
            for role, key in (("speaker", "speakers"), ("moderator", "moderators"))
            for i, person in enumerate(data[key])]
    if rows:
        tx.execute(item_people.insert(), rows)


def announce_agenda_change(tx: sa.Connection, meeting_id: str, base_url: str, *,
                           correlation_id: str | None) -> list[dict]:
    """If the agenda is published: refuse a change that makes it wrong, else emit ``agenda.changed``."""
    meeting = load_meeting(tx, meeting_id)
    if meeting["agenda_status"] != "published":
        return []
    items = load_items(tx, meeting_id, base_url)
    blocking = errors(find_problems(meeting, items))
    if blocking:
        raise AgendaHasProblems(blocking)
    before = (meeting["published_agenda"] or {}).get("items", [])
    revision = meeting["agenda_revision"] + 1
    after = json_ready(agenda_state(meeting, items, revision))
    changes = diff_agendas(before, after["items"])
    if not changes:
        return []
    add_to_outbox(tx, outbox, AGENDA_CHANGED, {
        "meeting": meeting_snapshot(meeting), "previous_revision": meeting["agenda_revision"],
        "revision": revision, "changed_at": utcnow(), "times_changed": times_changed(changes),
        "changes": changes, "agenda": after,
    }, producer=PRODUCER, correlation_id=correlation_id)
    tx.execute(meetings.update().where(meetings.c.id == meeting_id)
               .values(agenda_revision=revision, published_agenda=after, updated_at=utcnow()))
    return changes


class Programme:
    """The programme operations of one agenda service; ``base_url`` makes document links absolute."""

    def __init__(self, engine: sa.Engine, base_url: str):
        self.engine = engine
        self.base_url = base_url

    # --- reading -------------------------------------------------------------------------------------------
    def items(self, meeting_id: str, *, with_results: bool = True) -> list[dict]:
        with self.engine.connect() as conn:
            load_meeting(conn, meeting_id)
            return load_items(conn, meeting_id, self.base_url, with_results=with_results)

    def item(self, meeting_id: str, item_id: str) -> dict:
        for item in self.items(meeting_id):
            if item["item_id"] == item_id:
                return item
        raise ItemNotFound(item_id)

    def problems(self, meeting_id: str) -> list[Problem]:
        with self.engine.connect() as conn:
            meeting = load_meeting(conn, meeting_id)
            return find_problems(meeting, load_items(conn, meeting_id, self.base_url))

    def agenda(self, meeting_id: str) -> dict:
        with self.engine.connect() as conn:
            meeting = load_meeting(conn, meeting_id)
            items = load_items(conn, meeting_id, self.base_url, with_results=True)
        return {"meeting_id": meeting_id, "agenda_status": meeting["agenda_status"],
                "agenda_revision": meeting["agenda_revision"], "items": items,
                "problems": [p.as_dict() for p in find_problems(meeting, items)]}

    def item_as_input(self, meeting_id: str, item_id: str) -> dict:
        """The item in the shape ``AgendaItemInput`` loads, so a partial change can be merged and re-validated."""
        item = self.item(meeting_id, item_id)
        return {k: item[k] for k in ("kind", "title", "description", "room_id", "speakers", "moderators",
                                     "capacity", "guiding_questions")} | {
            "starts_at": item["starts_at"].isoformat(), "ends_at": item["ends_at"].isoformat()}

    # --- changing ------------------------------------------------------------------------------------------
    def add_item(self, meeting_id: str, data: dict, *, correlation_id: str | None = None) -> str:
        with self.engine.begin() as tx:
            meeting = _lock_editable(tx, meeting_id)
            _check_room(tx, meeting_id, data["room_id"])
            item_id = str(uuid.uuid4())
            now = utcnow()
            tx.execute(agenda_items.insert().values(id=item_id, meeting_id=meeting_id, status="scheduled",
                                                    created_at=now, updated_at=now, **_item_values(meeting, data)))
            _replace_people(tx, item_id, data)
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)
        return item_id

    def update_item(self, meeting_id: str, item_id: str, data: dict, *, correlation_id: str | None = None) -> None:
        with self.engine.begin() as tx:
            meeting = _lock_editable(tx, meeting_id)
            _item_row(tx, meeting_id, item_id)
            _check_room(tx, meeting_id, data["room_id"])
            tx.execute(agenda_items.update().where(agenda_items.c.id == item_id)
                       .values(updated_at=utcnow(), **_item_values(meeting, data)))
            _replace_people(tx, item_id, data)
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)

    def set_item_status(self, meeting_id: str, item_id: str, status: str, *,
                        correlation_id: str | None = None) -> None:
        """Cancel an item (it stays on the agenda, marked cancelled) or reinstate it."""
        with self.engine.begin() as tx:
            _lock_editable(tx, meeting_id)
            _item_row(tx, meeting_id, item_id)
            tx.execute(agenda_items.update().where(agenda_items.c.id == item_id)
                       .values(status=status, updated_at=utcnow()))
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)

    def delete_item(self, meeting_id: str, item_id: str, *, correlation_id: str | None = None) -> None:
        with self.engine.begin() as tx:
            _lock_editable(tx, meeting_id)
            _item_row(tx, meeting_id, item_id)
            tx.execute(agenda_items.delete().where(agenda_items.c.id == item_id))
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)

    def publish_agenda(self, meeting_id: str, *, correlation_id: str | None = None) -> dict:
        """Publish the agenda of a published meeting; refused while it has problems of severity error."""
        with self.engine.begin() as tx:
            meeting = _lock_editable(tx, meeting_id)
            if meeting["status"] not in VISIBLE_TO_PARTICIPANTS:
                raise NotPossible("Erst das Treffen veröffentlichen, dann das Programm. / "
                                  "Publish the meeting before its agenda.")
            if meeting["agenda_status"] == "published":
                return meeting
            items = load_items(tx, meeting_id, self.base_url)
            if not items:
                raise NotPossible("Das Programm ist noch leer. / The agenda is still empty.")
            blocking = errors(find_problems(meeting, items))
            if blocking:
                raise AgendaHasProblems(blocking)
            revision = meeting["agenda_revision"] + 1
            state = json_ready(agenda_state(meeting, items, revision))
            add_to_outbox(tx, outbox, AGENDA_PUBLISHED, {"meeting": meeting_snapshot(meeting), "agenda": state},
                          producer=PRODUCER, correlation_id=correlation_id)
            tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(
                agenda_status="published", agenda_revision=revision, published_agenda=state, updated_at=utcnow()))
            return load_meeting(tx, meeting_id)

    # --- rounds: results -----------------------------------------------------------------------------------
    def set_result(self, meeting_id: str, item_id: str, text: str) -> None:
        """Save the written result of a round (not yet visible to anyone but organisers)."""
        with self.engine.begin() as tx:
            load_meeting(tx, meeting_id, for_update=True)
            row = _item_row(tx, meeting_id, item_id)
            if row.kind not in ROUND_KINDS:
                raise NotPossible("Ergebnisse gibt es nur für Diskussionsrunden und Workshops. / "
                                  "Only discussion rounds and workshops have results.")
            tx.execute(agenda_items.update().where(agenda_items.c.id == item_id)
                       .values(result=text, updated_at=utcnow()))

    def publish_result(self, meeting_id: str, item_id: str, *, correlation_id: str | None = None) -> dict:
        with self.engine.begin() as tx:
            meeting = load_meeting(tx, meeting_id, for_update=True)
            row = _item_row(tx, meeting_id, item_id)
            if row.kind not in ROUND_KINDS:
                raise NotPossible("Ergebnisse gibt es nur für Diskussionsrunden und Workshops. / "
                                  "Only discussion rounds and workshops have results.")
            if meeting["status"] not in ("published", "closed", "archived"):
                raise NotPossible("Das Treffen ist nicht veröffentlicht. / The meeting is not published.")
            if not row.result.strip():
                raise InvalidInput({"result": ["Erst ein Ergebnis eintragen. / Enter a result first."]})
            if as_utc(row.ends_at) > utcnow():
                raise NotPossible("Ergebnisse erst nach der Runde veröffentlichen. / "
                                  "Results can be published once the round is over.")
            now = utcnow()
            tx.execute(agenda_items.update().where(agenda_items.c.id == item_id)
                       .values(result_published_at=now, updated_at=now))
            round_ = next(i for i in load_items(tx, meeting_id, self.base_url) if i["item_id"] == item_id)
            add_to_outbox(tx, outbox, ROUND_RESULTS_PUBLISHED, {
                "meeting": meeting_snapshot(meeting), "round": round_, "result": row.result, "published_at": now,
            }, producer=PRODUCER, correlation_id=correlation_id)
            return round_

    # --- documents -----------------------------------------------------------------------------------------
    def add_document(self, meeting_id: str, item_id: str, *, kind: str, filename: str, content_type: str,
                     data: bytes, correlation_id: str | None = None) -> str:
        with self.engine.begin() as tx:
            _lock_editable(tx, meeting_id)
            _item_row(tx, meeting_id, item_id)
            document_id = str(uuid.uuid4())
            tx.execute(documents.insert().values(id=document_id, item_id=item_id, kind=kind, filename=filename,
                                                 content_type=content_type, size=len(data), data=data,
                                                 uploaded_at=utcnow()))
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)
        return document_id

    def delete_document(self, meeting_id: str, document_id: str, *, correlation_id: str | None = None) -> None:
        with self.engine.begin() as tx:
            _lock_editable(tx, meeting_id)
            found = self._document_row(tx, meeting_id, document_id)
            if found is None:
                raise ItemNotFound(document_id)
            tx.execute(documents.delete().where(documents.c.id == document_id))
            announce_agenda_change(tx, meeting_id, self.base_url, correlation_id=correlation_id)

    @staticmethod
    def _document_row(conn: sa.Connection, meeting_id: str, document_id: str):
        return conn.execute(
            sa.select(documents).join(agenda_items, agenda_items.c.id == documents.c.item_id)
            .where(documents.c.id == document_id, agenda_items.c.meeting_id == meeting_id)).first()

    def document(self, meeting_id: str, document_id: str):
        with self.engine.connect() as conn:
            return self._document_row(conn, meeting_id, document_id)
