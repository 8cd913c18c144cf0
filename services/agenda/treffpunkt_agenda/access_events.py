"""``organiser.access_changed``: every change of an account's access announced, in the transaction of the change.

The agenda believes its own database on every request; registration and notify only have the token and the
copy of this event (treffpunkt_shared.access), so each change that can take rights away is announced:
deactivated or reactivated, role changed, meetings assigned or removed, password changed, signed out.
Signing out, a new password and deactivation also move the account's ``tokens_not_before`` to now, which
refuses every token signed in before, everywhere (reactivating does not bring those tokens back).
:func:`announce_current_access` (``python -m treffpunkt_agenda announce-access``) announces every account
once more as it is, for what was changed before these events existed.
"""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.auth import revocation_time
from treffpunkt_shared.contracts import ANNOUNCED, DEACTIVATED, ORGANISER_ACCESS_CHANGED, PASSWORD_CHANGED, SIGNED_OUT
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc, utcnow

from .models import meeting_organisers, organisers, outbox

PRODUCER = "agenda"
REVOKING = frozenset({DEACTIVATED, PASSWORD_CHANGED, SIGNED_OUT})


def announce_access_change(tx: sa.Connection, organiser_id: str, changes: list[str], *,
                           correlation_id: str | None = None) -> bool:
    """Raise the account's access revision (moving ``tokens_not_before`` for the changes in ``REVOKING``) and
    write its access after the change to the outbox; False if there is no such account."""
    values = {"access_revision": organisers.c.access_revision + 1}
    if REVOKING.intersection(changes):
        values["tokens_not_before"] = revocation_time()
    # The UPDATE locks the row: concurrent changes of one account get distinct, ordered revisions.
    if tx.execute(organisers.update().where(organisers.c.id == organiser_id).values(**values)).rowcount == 0:
        return False
    _add_access_to_outbox(tx, organiser_id, changes, correlation_id=correlation_id)
    return True


def announce_current_access(tx: sa.Connection, *, correlation_id: str | None = None) -> int:
    """Write every account's access as it is now to the outbox, at its current revision (``changes``: only
    ``announced``); the number of accounts. For the read models of registration and notify, which start empty:
    an account changed before this version would be unknown to them and its tokens believed. Safe to repeat
    and to run beside the web processes: a consumer keeps an event only if its revision is newer than its own."""
    # Revision 0: never announced, and no event may carry 0. It becomes the first; an account changed
    # meanwhile has its UPDATE ordered before or after this one by the row lock, and announces its own.
    tx.execute(organisers.update().where(organisers.c.access_revision == 0).values(access_revision=1))
    # Locked in id order: a change of an account committing meanwhile is read after it, not half.
    ids = tx.execute(sa.select(organisers.c.id).order_by(organisers.c.id).with_for_update()).scalars().all()
    for organiser_id in ids:
        _add_access_to_outbox(tx, organiser_id, [ANNOUNCED], correlation_id=correlation_id)
    return len(ids)


def _add_access_to_outbox(tx: sa.Connection, organiser_id: str, changes: list[str], *,
                          correlation_id: str | None) -> None:
    account = tx.execute(sa.select(organisers.c.active, organisers.c.role, organisers.c.access_revision,
                                   organisers.c.tokens_not_before).where(organisers.c.id == organiser_id)).one()
    meeting_ids = tx.execute(sa.select(meeting_organisers.c.meeting_id)
                             .where(meeting_organisers.c.organiser_id == organiser_id)).scalars()
    add_to_outbox(tx, outbox, ORGANISER_ACCESS_CHANGED, {
        "organiser_id": organiser_id, "revision": account.access_revision, "changed_at": utcnow(),
        "active": account.active, "role": account.role, "meeting_ids": sorted(meeting_ids),
        "not_before": as_utc(account.tokens_not_before), "changes": list(changes),
    }, producer=PRODUCER, correlation_id=correlation_id)
