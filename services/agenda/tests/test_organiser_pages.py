"""The organiser pages (server-rendered forms) on PostgreSQL, through Flask's test client."""
from __future__ import annotations

import html
import io
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from treffpunkt_agenda.meetings import get_meeting
from treffpunkt_agenda.models import agenda_items, outbox

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import signed_in_browser  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "treffpunkt_agenda" / "templates"

MEETING_FORM = {
    "title": "3. Landesnetzwerktreffen der hessischen Ausländerbehörden", "series": "Landesnetzwerktreffen",
    "number": "3", "host": "Ausländerbehörde der Wissenschaftsstadt Darmstadt", "theme": "Wissensmanagement",
    "description": "Austausch über Wissensmanagement.",
    "venue-name": "Regierungspräsidium Darmstadt", "venue-address": "Luisenplatz 2, 64283 Darmstadt",
    "venue-room": "Ludwig-Bergsträßer-Saal",
    "days-0-date": "2030-09-16", "days-0-starts": "10:00", "days-0-ends": "17:00",
    "days-1-date": "2030-09-17", "days-1-starts": "09:00", "days-1-ends": "15:00",
    "days-2-date": "", "days-2-starts": "", "days-2-ends": "",
    "rooms-0-name": "Ludwig-Bergsträßer-Saal", "rooms-0-capacity": "80",
    "rooms-1-name": "Raum A", "rooms-1-capacity": "25",
    "rooms-2-name": "Raum B", "rooms-2-capacity": "25",
    "capacity": "60", "registration_opens_at": "", "registration_closes_at": "2030-09-01T12:00",
    "csrf_token": "",
}


@pytest.fixture
def client(app, admin):
    """An organiser's browser: signed in through the form; its form posts carry the CSRF token."""
    return signed_in_browser(app, admin["email"])


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed (for assertions on what a reader sees)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def create_meeting(client, **changes) -> str:
    r = client.post("/organiser/meetings/new", data={**MEETING_FORM, **changes})
    assert r.status_code == 303, text_of(r)
    return re.search(r"/organiser/meetings/([0-9a-f-]{36})", r.headers["Location"]).group(1)


def rooms_of(engine, meeting_id) -> dict[str, str]:
    return {r["name"]: r["room_id"] for r in get_meeting(engine, meeting_id)["rooms"]}


def item_form(**fields) -> dict:
    base = {"kind": "talk", "title": "Vortrag", "description": "", "day": "2030-09-16", "starts": "10:00",
            "ends": "10:30", "room_id": "", "capacity": "", "guiding_questions": "", "csrf_token": ""}
    return {**base, **fields}


def add_item(client, meeting_id, expect=303, **fields):
    r = client.post(f"/organiser/meetings/{meeting_id}/items/new", data=item_form(**fields))
    assert r.status_code == expect, text_of(r)
    return r


def item_ids(engine, meeting_id) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(agenda_items.c.id, agenda_items.c.title)
                            .where(agenda_items.c.meeting_id == meeting_id)).all()
    return {r.title: r.id for r in rows}


def build_two_rounds(client, engine, meeting_id, second_questions="Wie halten wir alle auf demselben Stand?"):
    rooms = rooms_of(engine, meeting_id)
    add_item(client, meeting_id, kind="welcome", title="Begrüßung", starts="10:00", ends="10:30",
             room_id=rooms["Ludwig-Bergsträßer-Saal"], **{"speakers-0-name": "Dr. Maria Beispiel",
                                                          "speakers-0-function": "Abteilungsleiterin",
                                                          "speakers-0-authority": "HMSI"})
    add_item(client, meeting_id, kind="discussion_round", title="Ungeklärte Identität", starts="11:00",
             ends="12:30", room_id=rooms["Raum A"], capacity="20",
             guiding_questions="Welche Verfahrensweisen gibt es bei ungeklärter Identität?\r\n"
                               "Welche Unterlagen werden anerkannt?",
             **{"moderators-0-name": "Jan Muster", "moderators-0-authority": "Ausländerbehörde Kassel"})
    add_item(client, meeting_id, kind="discussion_round", title="Wissensmanagement", starts="11:00",
             ends="12:30", room_id=rooms["Raum B"], capacity="20", guiding_questions=second_questions,
             **{"moderators-0-name": "Eva Probe", "moderators-0-authority": "Ausländerbehörde Wiesbaden"})
    add_item(client, meeting_id, kind="closing", title="Abschluss", day="2030-09-17", starts="14:00",
             ends="15:00", room_id=rooms["Ludwig-Bergsträßer-Saal"])


# --- meetings -------------------------------------------------------------------------------------------------

def test_a_meeting_with_two_days_and_three_rooms_is_created_from_the_form(client, engine):
    page = client.get("/organiser/meetings/new")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="csrf_token"' in body and 'for="days-2-date"' in body and 'for="rooms-5-name"' in body

    meeting_id = create_meeting(client)
    meeting = get_meeting(engine, meeting_id)
    assert meeting["status"] == "draft" and meeting["number"] == 3 and meeting["capacity"] == 60
    assert [d["date"].isoformat() for d in meeting["days"]] == ["2030-09-16", "2030-09-17"]
    assert meeting["days"][0]["starts_at"].isoformat() == "2030-09-16T08:00:00+00:00"  # 10 Uhr in Berlin
    assert [(r["name"], r["capacity"]) for r in meeting["rooms"]] == [
        ("Ludwig-Bergsträßer-Saal", 80), ("Raum A", 25), ("Raum B", 25)]
    assert meeting["registration_closes_at"].isoformat() == "2030-09-01T10:00:00+00:00"

    overview = client.get(f"/organiser/meetings/{meeting_id}?notice=created")
    text = text_of(overview)
    assert "Das Treffen wurde angelegt." in text and "Entwurf" in text
    assert "Montag, 16. September 2030" in text and "Dienstag, 17. September 2030" in text


def test_the_meeting_list_shows_each_meeting_with_its_status_agenda_status_and_links(client):
    meeting_id = create_meeting(client)
    r = client.get("/organiser/")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert MEETING_FORM["title"] in body
    for path in ("", "/programme", "/rounds", "/preview"):
        assert f'href="/organiser/meetings/{meeting_id}{path}"' in body
    text = text_of(r)
    assert "Entwurf" in text and "nicht veröffentlicht" in text


def test_errors_are_shown_at_their_fields_and_the_entered_values_are_kept(client, engine):
    r = client.post("/organiser/meetings/new", data={
        **MEETING_FORM, "title": "", "capacity": "viele", "days-1-ends": "08:00", "rooms-3-capacity": "10",
        "registration_opens_at": "2030-09-02T12:00"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    expected = {"title": "Pflichtfeld.", "capacity": "Bitte eine ganze Zahl eingeben.",
                "days-1-ends": "Das Ende muss nach dem Beginn liegen.", "rooms-3-name": "Pflichtfeld."}
    # Checks across fields run once the single fields are right.
    later = client.post("/organiser/meetings/new", data={**MEETING_FORM, "registration_opens_at": "2030-09-02T12:00"})
    assert later.status_code == 422
    assert ('<p class="error" id="registration_closes_at-error">Die Anmeldung muss nach ihrem Beginn schließen.</p>'
            in later.get_data(as_text=True))
    for field, message in expected.items():
        assert re.search(rf'<(input|textarea)[^>]*id="{field}"[^>]*aria-describedby="[^"]*{field}-error"'
                         rf'[^>]*aria-invalid="true"', body, re.S), field
        assert f'<p class="error" id="{field}-error">{message}</p>' in body, field
        assert f'href="#{field}"' in body  # the summary links to the field
    assert 'role="alert"' in body
    # What was typed stays in the form, also the invalid values.
    assert 'value="viele"' in body and 'value="Regierungspräsidium Darmstadt"' in body
    assert 'value="08:00"' in body and 'value="2030-09-02T12:00"' in body
    assert ">Austausch über Wissensmanagement.</textarea>" in body
    # The valid fields are not marked.
    assert not re.search(r'id="venue-name"[^>]*aria-invalid', body)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from meetings")).scalar() == 0


def test_errors_are_shown_in_english_when_english_is_chosen(client):
    client.get("/organiser/?lang=en")
    r = client.post("/organiser/meetings/new", data={**MEETING_FORM, "title": "", "days-0-date": "",
                                                      "days-0-starts": "", "days-0-ends": "",
                                                      "days-1-date": "", "days-1-starts": "", "days-1-ends": ""})
    assert r.status_code == 422
    text = text_of(r)
    assert "Required." in text and "Please give at least one day with its start and end." in text
    assert "Create meeting" in text and "Pflichtfeld" not in text
    assert '<html lang="en">' in r.get_data(as_text=True)


def test_changing_a_meeting_keeps_its_rooms_and_refuses_to_drop_a_room_in_use(client, engine):
    meeting_id = create_meeting(client)
    rooms = rooms_of(engine, meeting_id)
    add_item(client, meeting_id, title="Vortrag in Raum A", room_id=rooms["Raum A"])
    form = client.get(f"/organiser/meetings/{meeting_id}/edit").get_data(as_text=True)
    assert f'value="{rooms["Raum A"]}"' in form and 'value="Wissensmanagement"' in form
    values = dict(re.findall(r'name="([^"]+)" type="[^"]+" value="([^"]*)"', form))
    values |= dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    values["description"] = "Neu"
    values["theme"] = "Wissensmanagement und Digitalisierung"
    values["rooms-1-name"] = "Raum A (1. OG)"
    r = client.post(f"/organiser/meetings/{meeting_id}/edit", data=values)
    assert r.status_code == 303, text_of(r)
    assert rooms_of(engine, meeting_id)["Raum A (1. OG)"] == rooms["Raum A"]
    assert get_meeting(engine, meeting_id)["theme"] == "Wissensmanagement und Digitalisierung"

    values["rooms-1-name"] = ""
    values["rooms-1-capacity"] = ""
    r = client.post(f"/organiser/meetings/{meeting_id}/edit", data=values)
    assert r.status_code == 422
    assert "ist im Programm eingeplant und kann nicht entfernt werden" in text_of(r)


def test_status_actions_ask_for_confirmation_and_then_change_the_status_by_post(client, engine):
    meeting_id = create_meeting(client)
    overview = client.get(f"/organiser/meetings/{meeting_id}").get_data(as_text=True)
    assert f'href="/organiser/meetings/{meeting_id}/status/published"' in overview
    assert f'href="/organiser/meetings/{meeting_id}/status/cancelled"' in overview
    assert f'/status/archived"' not in overview  # a draft cannot be archived

    confirm = client.get(f"/organiser/meetings/{meeting_id}/status/published")
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert re.search(r'<form method="post" action="/organiser/meetings/[^"]+/status"', body)
    assert 'name="status" value="published"' in body and 'name="csrf_token"' in body
    assert get_meeting(engine, meeting_id)["status"] == "draft"  # looking at the question changes nothing

    r = client.post(f"/organiser/meetings/{meeting_id}/status", data={"status": "published", "csrf_token": ""})
    assert r.status_code == 303 and "notice=status-published" in r.headers["Location"]
    assert get_meeting(engine, meeting_id)["status"] == "published"
    with engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.routing_key).order_by(outbox.c.seq)).scalars().all() == [
            "organiser.access_changed", "meeting.published"]  # the creator's assignment, then the status

    assert client.get(f"/organiser/meetings/{meeting_id}/status/archived").status_code == 409
    r = client.post(f"/organiser/meetings/{meeting_id}/status", data={"status": "archived"})
    assert r.status_code == 409 and "Dieser Statuswechsel ist nicht möglich." in text_of(r)
    assert client.get(f"/organiser/meetings/{meeting_id}/status/published").status_code == 409


def test_html_typed_into_a_title_is_shown_escaped(client, engine):
    evil = '<script>alert("x")</script><b>fett</b>'
    meeting_id = create_meeting(client, title=evil)
    add_item(client, meeting_id, title=evil)
    pages = ["/organiser/", f"/organiser/meetings/{meeting_id}", f"/organiser/meetings/{meeting_id}/programme",
             f"/organiser/meetings/{meeting_id}/edit", f"/organiser/meetings/{meeting_id}/preview"]
    item_id = item_ids(engine, meeting_id)[evil]
    pages.append(f"/organiser/meetings/{meeting_id}/items/{item_id}")
    for path in pages:
        body = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<b>fett</b>" not in body, path
        assert "&lt;script&gt;alert(" in body, path
    r = client.post("/organiser/meetings/new", data={**MEETING_FORM, "title": evil, "capacity": ""})
    assert r.status_code == 422
    assert "<script>alert" not in r.get_data(as_text=True)


# --- the programme editor -------------------------------------------------------------------------------------

def test_items_are_added_and_parallel_rounds_appear_side_by_side_in_the_day_grid(client, engine):
    meeting_id = create_meeting(client)
    build_two_rounds(client, engine, meeting_id)
    items = item_ids(engine, meeting_id)
    assert set(items) == {"Begrüßung", "Ungeklärte Identität", "Wissensmanagement", "Abschluss"}

    r = client.get(f"/organiser/meetings/{meeting_id}/programme")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    # One grid per day with the rooms as columns.
    assert body.count('<table class="timeline">') == 2
    assert re.search(r'<th scope="col">Raum A <span class="hint">\(25 Plätze\)</span></th>', body)
    # Both rounds start at 11:00: one row, two cells next to each other.
    row = re.search(r'<th scope="row">11:00 Uhr</th>(.*?)</tr>', body, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert len(cells) == 3
    assert "Ungeklärte Identität" in cells[1] and "Wissensmanagement" in cells[2] and cells[0].strip() == ""
    assert f'id="item-{items["Abschluss"]}"' in body.split('id="day-2030-09-17"')[1]

    item = client.get(f"/organiser/meetings/{meeting_id}/items/{items['Ungeklärte Identität']}").get_data(
        as_text=True)
    assert ("Welche Verfahrensweisen gibt es bei ungeklärter Identität?\nWelche Unterlagen werden anerkannt?"
            "</textarea>") in item
    assert 'value="Jan Muster"' in item and 'value="Ausländerbehörde Kassel"' in item


def test_item_errors_are_shown_at_their_fields_with_the_values_kept(client, engine):
    meeting_id = create_meeting(client)
    r = add_item(client, meeting_id, expect=422, kind="talk", title="", day="2030-09-20", starts="25:00",
                 ends="10:00", capacity="30", guiding_questions="Eine Frage?",
                 **{"speakers-1-function": "Referentin", "speakers-1-authority": "BAMF"})
    body = r.get_data(as_text=True)
    expected = {"title": "Pflichtfeld.", "day": "Bitte einen der Tage des Treffens wählen.",
                "starts": "Bitte eine Uhrzeit wie 10:30 eingeben.", "speakers-1-name": "Pflichtfeld."}
    for field, message in expected.items():
        assert f'<p class="error" id="{field}-error">{message}</p>' in body, field
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"[^>]*aria-invalid="true"',
                         body, re.S), field
    assert 'value="Referentin"' in body and ">Eine Frage?</textarea>" in body and 'value="25:00"' in body

    r = add_item(client, meeting_id, expect=422, title="Zu kurz", starts="11:00", ends="10:00", capacity="30")
    body = r.get_data(as_text=True)
    assert '<p class="error" id="ends-error">Das Ende muss nach dem Beginn liegen.</p>' in body
    r = add_item(client, meeting_id, expect=422, title="Vortrag mit Plätzen", capacity="30")
    body = r.get_data(as_text=True)
    assert '<p class="error" id="capacity-error">Plätze gibt es nur bei Diskussionsrunden und Workshops.</p>' in body
    assert item_ids(engine, meeting_id) == {}


def test_problems_of_the_programme_are_shown_as_warnings_that_link_to_their_items(client, engine):
    meeting_id = create_meeting(client)
    rooms = rooms_of(engine, meeting_id)
    add_item(client, meeting_id, kind="discussion_round", title="Runde ohne Fragen", starts="11:00",
             ends="12:00", room_id=rooms["Raum A"], capacity="40")
    add_item(client, meeting_id, title="Doppelt im Raum", starts="11:30", ends="12:30", room_id=rooms["Raum A"])
    items = item_ids(engine, meeting_id)

    r = client.get(f"/organiser/meetings/{meeting_id}/programme")
    body = r.get_data(as_text=True)
    box = re.search(r'<div class="problems" role="status".*?</div>', body, re.S).group(0)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", box)).split())
    assert "Hinweise zum Programm" in text
    assert "Raum „Raum A“ ist doppelt belegt" in text
    assert "„Runde ohne Fragen“ hat 40 Plätze, der Raum „Raum A“ nur 25." in text
    assert "„Runde ohne Fragen“ hat noch keine Leitfragen." in text
    for item_id in items.values():
        assert f'#item-{item_id}"' in box
        assert f'id="item-{item_id}"' in body
    # The item's own page shows the problems that concern it.
    own = text_of(client.get(f"/organiser/meetings/{meeting_id}/items/{items['Doppelt im Raum']}"))
    assert "Hinweise zu diesem Programmpunkt" in own and "doppelt belegt" in own and "Leitfragen" in own


def test_publishing_an_agenda_with_problems_is_refused_and_the_blocking_problems_are_listed(client, engine):
    meeting_id = create_meeting(client)
    rooms = rooms_of(engine, meeting_id)
    add_item(client, meeting_id, title="Vortrag", starts="11:00", ends="12:00", room_id=rooms["Raum A"],
             **{"speakers-0-name": "Dr. Maria Beispiel"})

    r = client.post(f"/organiser/meetings/{meeting_id}/programme/publish", data={"csrf_token": ""})
    assert r.status_code == 409
    assert "Erst das Treffen veröffentlichen, dann das Programm." in text_of(r)

    client.post(f"/organiser/meetings/{meeting_id}/status", data={"status": "published"})
    add_item(client, meeting_id, title="Parallel", starts="11:30", ends="12:30", room_id=rooms["Raum B"],
             **{"speakers-0-name": "Dr. Maria Beispiel"})
    r = client.post(f"/organiser/meetings/{meeting_id}/programme/publish", data={"csrf_token": ""})
    assert r.status_code == 409
    body = r.get_data(as_text=True)
    alert = re.search(r'<div class="problems blocking" role="alert".*?</div>', body, re.S).group(0)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", alert)).split())
    assert "Nicht möglich" in text
    assert "Fehler: Dr. Maria Beispiel ist zur selben Zeit bei „Vortrag“ und „Parallel“ eingeplant." in text
    assert get_meeting(engine, meeting_id)["agenda_status"] == "draft"

    parallel = item_ids(engine, meeting_id)["Parallel"]
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{parallel}/cancel", data={"csrf_token": ""})
    assert r.status_code == 303
    r = client.post(f"/organiser/meetings/{meeting_id}/programme/publish", data={"csrf_token": ""})
    assert r.status_code == 303 and "notice=agenda-published" in r.headers["Location"]
    assert get_meeting(engine, meeting_id)["agenda_status"] == "published"

    # Reinstating it now would make the published agenda wrong: refused, and nothing changes.
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{parallel}/reinstate", data={"csrf_token": ""})
    assert r.status_code == 409 and "ist zur selben Zeit bei" in text_of(r)
    with engine.connect() as conn:
        assert conn.execute(sa.select(agenda_items.c.status).where(agenda_items.c.id == parallel)).scalar() \
            == "cancelled"


def test_an_item_is_edited_cancelled_reinstated_and_deleted_after_confirmation(client, engine):
    meeting_id = create_meeting(client)
    add_item(client, meeting_id, title="Vortrag")
    item_id = item_ids(engine, meeting_id)["Vortrag"]
    values = item_form(title="Vortrag zur Identitätsklärung", starts="10:15", ends="11:00")
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{item_id}", data=values)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"#item-{item_id}")
    assert item_ids(engine, meeting_id) == {"Vortrag zur Identitätsklärung": item_id}

    client.post(f"/organiser/meetings/{meeting_id}/items/{item_id}/cancel")
    grid = client.get(f"/organiser/meetings/{meeting_id}/programme").get_data(as_text=True)
    assert f"/items/{item_id}/reinstate" in grid and "abgesagt" in grid
    client.post(f"/organiser/meetings/{meeting_id}/items/{item_id}/reinstate")
    assert f"/items/{item_id}/cancel" in client.get(f"/organiser/meetings/{meeting_id}/programme").get_data(
        as_text=True)

    confirm = client.get(f"/organiser/meetings/{meeting_id}/items/{item_id}/delete")
    assert confirm.status_code == 200 and "Endgültig löschen" in text_of(confirm)
    assert item_ids(engine, meeting_id)  # asking deletes nothing
    assert client.get(f"/organiser/meetings/{meeting_id}/items/{item_id}/cancel").status_code == 405
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{item_id}/delete", data={"csrf_token": ""})
    assert r.status_code == 303 and item_ids(engine, meeting_id) == {}
    assert client.get(f"/organiser/meetings/{meeting_id}/items/{item_id}").status_code == 404


def test_a_document_is_uploaded_to_an_item_and_a_wrong_file_is_refused_at_the_field(client, engine):
    meeting_id = create_meeting(client)
    add_item(client, meeting_id, title="Vortrag")
    item_id = item_ids(engine, meeting_id)["Vortrag"]
    url = f"/organiser/meetings/{meeting_id}/items/{item_id}/documents"

    r = client.post(url, data={"document_kind": "slides", "csrf_token": "",
                               "file": (io.BytesIO(b"MZ not a pdf"), "folien.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert '<p class="error" id="file-error">Der Inhalt passt nicht zur Dateiendung.</p>' in body
    assert re.search(r'id="file"[^>]*aria-describedby="file-hint file-error"[^>]*aria-invalid="true"', body, re.S)

    pdf = b"%PDF-1.4\n" + b"x" * 200_000  # larger than the 64 KB limit of other forms
    r = client.post(url, data={"document_kind": "slides", "file": (io.BytesIO(pdf), "Folien Identität.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 303, text_of(r)
    page = client.get(f"/organiser/meetings/{meeting_id}/items/{item_id}")
    assert "Folien Identitaet.pdf" in text_of(page)  # umlauts spelled out, not dropped
    document_id = re.search(r"/documents/([0-9a-f-]{36})/delete", page.get_data(as_text=True)).group(1)
    r = client.post(f"/organiser/meetings/{meeting_id}/documents/{document_id}/delete")
    assert r.status_code == 303
    assert "Noch keine Dokumente." in text_of(client.get(f"/organiser/meetings/{meeting_id}/items/{item_id}"))


# --- rounds and preview ---------------------------------------------------------------------------------------

def test_the_rounds_page_lists_questions_moderators_and_places_and_saves_a_result(client, engine):
    meeting_id = create_meeting(client)
    build_two_rounds(client, engine, meeting_id)
    round_id = item_ids(engine, meeting_id)["Ungeklärte Identität"]
    r = client.get(f"/organiser/meetings/{meeting_id}/rounds")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Begrüßung" not in body
    assert "<li>Welche Verfahrensweisen gibt es bei ungeklärter Identität?</li>" in body
    text = text_of(r)
    assert "Jan Muster (Ausländerbehörde Kassel)" in text and "Eva Probe" in text

    r = client.post(f"/organiser/meetings/{meeting_id}/items/{round_id}/result", data={"result": "  "})
    assert r.status_code == 422
    assert f'<p class="error" id="result-{round_id}-error">Bitte ein Ergebnis eintragen.</p>' in r.get_data(
        as_text=True)

    r = client.post(f"/organiser/meetings/{meeting_id}/items/{round_id}/result",
                    data={"result": "Einheitliches Vorgehen vereinbart.", "csrf_token": ""})
    assert r.status_code == 303
    assert ">Einheitliches Vorgehen vereinbart.</textarea>" in client.get(
        f"/organiser/meetings/{meeting_id}/rounds").get_data(as_text=True)

    # Publishing the result before the round took place (and of a draft meeting) is refused, with the reason.
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{round_id}/result/publish", data={"csrf_token": ""})
    assert r.status_code == 409 and "Das Treffen ist nicht veröffentlicht." in text_of(r)


def test_a_result_is_published_after_the_round_and_then_shown_on_the_public_page(client, engine):
    yesterday = (datetime.now() - timedelta(days=1)).date().isoformat()
    meeting_id = create_meeting(client, **{"days-0-date": yesterday, "days-1-date": "", "days-1-starts": "",
                                           "days-1-ends": "", "registration_closes_at": ""})
    rooms = rooms_of(engine, meeting_id)
    add_item(client, meeting_id, kind="workshop", title="Workshop E-Akte", day=yesterday, starts="11:00",
             ends="12:00", room_id=rooms["Raum A"], guiding_questions="Was hat sich bewährt?")
    round_id = item_ids(engine, meeting_id)["Workshop E-Akte"]
    client.post(f"/organiser/meetings/{meeting_id}/status", data={"status": "published"})
    assert client.post(f"/organiser/meetings/{meeting_id}/programme/publish").status_code == 303
    client.post(f"/organiser/meetings/{meeting_id}/items/{round_id}/result", data={"result": "Checkliste erstellt."})
    r = client.post(f"/organiser/meetings/{meeting_id}/items/{round_id}/result/publish", data={"csrf_token": ""})
    assert r.status_code == 303
    assert "Veröffentlicht am" in text_of(client.get(f"/organiser/meetings/{meeting_id}/rounds"))
    assert "Checkliste erstellt." in text_of(client.get(f"/meetings/{meeting_id}"))


def test_the_preview_shows_a_draft_meeting_that_the_public_cannot_see(client, engine):
    meeting_id = create_meeting(client)
    build_two_rounds(client, engine, meeting_id)
    assert client.get(f"/meetings/{meeting_id}").status_code == 404
    r = client.get(f"/organiser/meetings/{meeting_id}/preview")
    assert r.status_code == 200
    text = text_of(r)
    assert "Vorschau – so sehen Teilnehmende die Seite." in text
    assert "Ungeklärte Identität" in text and "Abschluss" in text


# --- for every form -------------------------------------------------------------------------------------------

def test_every_state_changing_form_posts_and_carries_the_csrf_field(client, engine):
    meeting_id = create_meeting(client)
    build_two_rounds(client, engine, meeting_id)
    item_id = item_ids(engine, meeting_id)["Ungeklärte Identität"]
    base = f"/organiser/meetings/{meeting_id}"
    pages = ["/organiser/meetings/new", base, f"{base}/edit", f"{base}/programme", f"{base}/rounds",
             f"{base}/items/new", f"{base}/items/{item_id}", f"{base}/items/{item_id}/delete",
             f"{base}/status/published"]
    forms = 0
    for path in pages:
        body = client.get(path).get_data(as_text=True)
        for form in re.findall(r"<form\b.*?</form>", body, re.S):
            if 'method="post"' not in form:
                continue
            forms += 1
            assert 'name="csrf_token"' in form, f"{path}: {form[:200]}"
        assert not re.search(r'<form(?![^>]*method="post")', body), path  # no GET forms at all
    assert forms >= 12


def test_the_organiser_views_ask_may_manage_before_touching_a_meeting():
    import inspect

    from treffpunkt_agenda import organiser_pages
    source = inspect.getsource(organiser_pages)
    views = re.findall(r"@bp\.(?:get|post)\(\"/meetings/<uuid:meeting_id>[^\n]*\n(def \w+\(.*?)(?=\n@bp|\n# ---|\Z)",
                       source, re.S)
    assert len(views) >= 18
    for view in views:
        assert re.search(r"_meeting\(meeting_id\)|_editable_meeting\(meeting_id\)|_item_status\(", view), view[:80]
    assert "_may_manage(meeting_id)" in inspect.getsource(organiser_pages._meeting)


def test_every_german_text_of_the_organiser_templates_has_an_english_version():
    from treffpunkt_agenda import organiser_pages
    from treffpunkt_agenda.catalog import catalog
    texts = set()
    for template in TEMPLATES.glob("organiser_*.html"):
        texts |= set(re.findall(r'_\("([^"]+)"\)', template.read_text()))
    texts |= set(re.findall(r'_t\("([^"]+)"\)', Path(organiser_pages.__file__).read_text()))
    texts |= set(organiser_pages.NOTICES.values()) | set(organiser_pages.STATUS_LABELS.values())
    texts |= {t for pair in organiser_pages.STATUS_ACTIONS.values() for t in pair}
    texts |= set(organiser_pages.AGENDA_STATUS_LABELS.values()) | set(organiser_pages.DOCUMENT_KINDS.values())
    missing = sorted(t for t in texts if t not in catalog.english)
    assert not missing, missing


def test_shortening_the_days_of_a_published_agenda_is_refused_with_the_items_it_would_break(client, engine):
    meeting_id = create_meeting(client)
    add_item(client, meeting_id, title="Abschluss", day="2030-09-17", starts="14:00", ends="15:00")
    client.post(f"/organiser/meetings/{meeting_id}/status", data={"status": "published"})
    assert client.post(f"/organiser/meetings/{meeting_id}/programme/publish").status_code == 303
    r = client.post(f"/organiser/meetings/{meeting_id}/edit", data={**MEETING_FORM, "days-1-ends": "13:00"})
    assert r.status_code == 409
    body = r.get_data(as_text=True)
    assert 'class="problems blocking" role="alert"' in body
    assert "„Abschluss“ liegt außerhalb der Tage und Zeiten des Treffens." in text_of(r)
    assert 'value="13:00"' in body  # what was typed is kept
    # Nothing saved: the second day still ends at 15:00 in Berlin (13:00 UTC).
    assert get_meeting(engine, meeting_id)["days"][1]["ends_at"].isoformat() == "2030-09-17T13:00:00+00:00"
