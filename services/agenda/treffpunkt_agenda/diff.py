"""The precise difference between two states of a published agenda, as ``AgendaChangeSchema`` entries."""
from __future__ import annotations

_OTHER_FIELDS = ("title", "description", "capacity", "guiding_questions", "kind")


def _person_ids(people: list[dict]) -> dict[tuple, dict]:
    return {(p["name"], p["function"], p["authority"]): p for p in people}


def _people_changes(before: list[dict], after: list[dict]) -> tuple[list[dict], list[dict]]:
    b, a = _person_ids(before), _person_ids(after)
    return [a[k] for k in a if k not in b], [b[k] for k in b if k not in a]


def _documents(item: dict) -> list[str]:
    return sorted(d["filename"] for d in item["documents"])


def _blank(item: dict, change: str) -> dict:
    """Every key present on every change, so consumers read one shape."""
    return {"item_id": item["item_id"], "title": item["title"], "kind": item["kind"], "change": change,
            "moved": None, "room": None, "speakers_added": [], "speakers_removed": [], "moderators_added": [],
            "moderators_removed": [], "fields_changed": {}, "item": item}


def _item_change(before: dict, after: dict) -> dict | None:
    change = _blank(after, "updated")
    if before["status"] != after["status"]:
        change["change"] = "cancelled" if after["status"] == "cancelled" else "reinstated"
    else:
        change["change"] = "updated"
    if (before["starts_at"], before["ends_at"]) != (after["starts_at"], after["ends_at"]):
        change["moved"] = {"from": {"starts_at": before["starts_at"], "ends_at": before["ends_at"]},
                           "to": {"starts_at": after["starts_at"], "ends_at": after["ends_at"]}}
    if before["room_id"] != after["room_id"] or before["room"] != after["room"]:
        change["room"] = {"from": before["room"], "to": after["room"]}
    for role in ("speakers", "moderators"):
        added, removed = _people_changes(before[role], after[role])
        if added:
            change[f"{role}_added"] = added
        if removed:
            change[f"{role}_removed"] = removed
    fields_changed = {f: {"from": before[f], "to": after[f]} for f in _OTHER_FIELDS if before[f] != after[f]}
    if _documents(before) != _documents(after):
        fields_changed["documents"] = {"from": _documents(before), "to": _documents(after)}
    if fields_changed:
        change["fields_changed"] = fields_changed
    if change == _blank(after, "updated"):
        return None
    return change


def diff_agendas(before: list[dict], after: list[dict]) -> list[dict]:
    """Changes from ``before`` to ``after`` (lists of items), in the time order of ``after``."""
    old = {i["item_id"]: i for i in before}
    new = {i["item_id"]: i for i in after}
    changes = []
    for item in after:
        if item["item_id"] not in old:
            changes.append(_blank(item, "added"))
            continue
        change = _item_change(old[item["item_id"]], item)
        if change:
            changes.append(change)
    for item in before:
        if item["item_id"] not in new:
            changes.append(_blank(item, "removed"))
    return changes


def times_changed(changes: list[dict]) -> bool:
    """Whether calendars need an update: anything added, removed, cancelled, reinstated, moved or re-roomed."""
    return any(c["change"] != "updated" or c["moved"] or c["room"] for c in changes)
