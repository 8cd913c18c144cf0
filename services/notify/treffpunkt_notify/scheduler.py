"""The notify worker's scheduled work: grouped agenda changes, reminders, organisers' digests, broadcasts,
and the mails of events that go to many participants (fan-outs: agenda published, round results).

Each job is safe to run in any number of workers at once and after any restart:

* grouped agenda changes: the meeting's read-model row is locked (``FOR UPDATE SKIP LOCKED``) while its open
  edits are turned into mails and marked mailed, in one transaction; a second worker skips the meeting.
* reminders: one mail per (meeting, registration, days) logical key; a second worker's insert does nothing.
* digests: the meeting row is locked while ``last_digest_at`` moves on and the digests are queued.
* erasures: :func:`~.erasure.sweep_erased` first in each round, so that what a transaction racing an erasure
  wrote back (a mail, a recipients row) is gone before the round's jobs read recipients again; deleting is
  idempotent. The first round after a start looks at every tombstone, the others at those of the last
  ``RACE_WINDOW``. Then the dead letters of registrations erased since the last pass are removed from the
  broker (:func:`~.erasure.scrub_dead_letters`); a tombstone is marked only after its pass succeeded.
* broadcasts and fan-outs: expanded in chunks, each chunk one transaction with the job's row locked
  (``FOR UPDATE SKIP LOCKED``) and its cursor (``expanded_through``) moved on; a second worker skips the job
  while a chunk is under way, and mails are unique by logical key anyway. A recipient whose mail cannot be
  rendered does not stop the chunk: it is recorded as a mail failed for good (``Scheduler._not_rendered``).

Times come from ``clock`` (tests move it instead of the machine's clock).
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from treffpunkt_shared.contracts import RejectedMessage
from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_shared.timeutil import as_utc, utcnow

from . import catalogue
from .catalogue import Prepared
from .erasure import RACE_WINDOW, not_erased, scrub_dead_letters, sweep_erased
from .handlers import FANOUT_EVENT_TYPES, Source, compact_body, queue_prepared
from .mail_queue import record_unrendered_mail
from .models import agenda_changes, broadcasts, fanouts, mails, meetings, recipients
from .notices import current_organisers, warn_organisers

log = logging.getLogger("treffpunkt.notify.scheduler")

ACTIVE_MEETING = ("published", "closed")


def _dt(value) -> datetime | None:
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def audience_query(meeting_id: str, audience: str, value: str | None):
    """Who a broadcast goes to: every confirmed participant of the meeting, those holding a place in one
    round, those of one authority (organisation, compared case-insensitively), or the waiting list."""
    query = sa.select(recipients).where(recipients.c.meeting_id == meeting_id)
    if audience == "waitlist":
        return query.where(recipients.c.status == "waitlisted")
    query = query.where(recipients.c.status == "confirmed")
    if audience == "authority":
        return query.where(sa.func.lower(sa.func.trim(recipients.c.organisation)) == (value or "").strip().lower())
    return query


def audience_filter(audience: str, value: str | None):
    if audience != "round":
        return lambda r: True
    return lambda r: any(x["item_id"] == value and x.get("held", True) for x in r.rounds or [])


class Scheduler:
    def __init__(self, engine: sa.Engine, settings, *, clock=utcnow, interval_seconds: float | None = None):
        self.engine = engine
        self.settings = settings
        # Where a mail that cannot be rendered goes, as one the SMTP server refused for good goes from the sender.
        self.topology = topology_for(settings)
        self.dead_letter_queue = self.topology.dead_letter_queue_name("notify")
        self.on_failed = warn_organisers(settings)
        self.clock = clock
        self.interval = settings.scheduler_interval_s if interval_seconds is None else interval_seconds
        self.stopped = threading.Event()
        self._swept_all = False

    # ----------------------------------------------------------------------------------- loop
    def run_once(self) -> dict:
        done = {}
        for name, job in (("erasures_swept", self.sweep_erasures), ("dead_letters_scrubbed", self.scrub_dead_letters),
                          ("broadcasts", self.expand_broadcasts),
                          ("fanouts", self.expand_fanouts), ("agenda_changes", self.send_agenda_changes),
                          ("reminders", self.send_reminders), ("digests", self.send_digests),
                          ("fanouts_pruned", self.prune_fanouts)):
            try:
                done[name] = job()
            except Exception as exc:  # one job failing must not stop the others, nor the loop
                log_event(log, "scheduled_job_failed", logging.ERROR, job=name, error=repr(exc)[:500])
                done[name] = None
        return done

    def run(self) -> None:
        while not self.stopped.is_set():
            self.run_once()
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()

    # ----------------------------------------------------------------------------------- erasures
    def sweep_erasures(self) -> int:
        # Once all tombstones: what a race left while no scheduler ran may be older than the window. The
        # machine's clock, not ``clock``: tombstones carry the real time of the erasure.
        since = utcnow() - RACE_WINDOW if self._swept_all else None
        with self.engine.begin() as tx:
            deleted = sweep_erased(tx, erased_since=since)
        self._swept_all = True
        return deleted

    def scrub_dead_letters(self) -> int:
        return scrub_dead_letters(self.engine, self.settings.amqp_url, self.topology)

    # ----------------------------------------------------------------------------------- agenda changes
    def send_agenda_changes(self) -> int:
        now = self.clock()
        quiet = timedelta(seconds=self.settings.agenda_change_quiet_s)
        longest = timedelta(seconds=self.settings.agenda_change_max_delay_s)
        with self.engine.connect() as conn:
            open_groups = conn.execute(
                sa.select(agenda_changes.c.meeting_id, sa.func.min(agenda_changes.c.received_at).label("first"),
                          sa.func.max(agenda_changes.c.received_at).label("last"))
                .where(agenda_changes.c.mailed_at.is_(None)).group_by(agenda_changes.c.meeting_id)).all()
        sent = 0
        for group in open_groups:
            if as_utc(group.last) <= now - quiet or as_utc(group.first) <= now - longest:
                sent += self._mail_agenda_changes(group.meeting_id, now)
        return sent

    def _mail_agenda_changes(self, meeting_id: str, now) -> int:
        with self.engine.begin() as tx:
            meeting = tx.execute(sa.select(meetings).where(meetings.c.meeting_id == meeting_id)
                                 .with_for_update(skip_locked=True)).first()
            if meeting is None:
                return 0  # another worker is on it
            edits = tx.execute(sa.select(agenda_changes).where(agenda_changes.c.meeting_id == meeting_id,
                                                               agenda_changes.c.mailed_at.is_(None))
                               .order_by(agenda_changes.c.revision)).all()
            if not edits:
                return 0
            tx.execute(agenda_changes.update().where(agenda_changes.c.id.in_([e.id for e in edits]))
                       .values(mailed_at=now))
            merged = catalogue.merge_changes([e.changes for e in edits])
            if not merged or meeting.status not in ACTIVE_MEETING + (None,):
                return 0
            from_revision, to_revision = edits[0].previous_revision, edits[-1].revision
            times_changed = any(e.times_changed for e in edits)
            items = (meeting.agenda or {}).get("items") or []
            snapshot = meeting.state
            count = failed = 0
            for recipient in tx.execute(sa.select(recipients).where(recipients.c.meeting_id == meeting_id,
                                                                   recipients.c.status == "confirmed")):
                try:
                    prepared = catalogue.agenda_changed_mail(
                        self.settings, snapshot, merged, from_revision=from_revision, to_revision=to_revision,
                        times_changed=times_changed, recipient=recipient, agenda_items=items,
                        meeting_revision=meeting.revision)
                except Exception as exc:
                    failed += self._not_rendered(tx, "agenda_changed", meeting_id, recipient, exc,
                                                 job_id=edits[-1].source_message_id, source_type="agenda.changed",
                                                 warn=not failed)
                    continue
                count += queue_prepared(tx, prepared, Source(
                    edits[-1].source_message_id, None,
                    compact_body(edits[-1].source_message_id, "agenda.changed", prepared,
                                 revisions=[from_revision, to_revision])))
            log_event(log, "agenda_changes_mailed", meeting_id=meeting_id, revisions=[from_revision, to_revision],
                      edits=len(edits), mails=count, not_rendered=failed)
            return count

    # ----------------------------------------------------------------------------------- reminders
    def due_reminder(self, starts_at: datetime, now: datetime) -> int | None:
        """The reminder due now: of the configured days whose moment has come before the start, the
        smallest (a worker that was down does not send a stale 7-day reminder the day before)."""
        if now >= starts_at:
            return None
        due = [d for d in self.settings.reminder_days if d > 0 and now >= starts_at - timedelta(days=d)]
        return min(due) if due else None

    def send_reminders(self) -> int:
        now = self.clock()
        longest = max([d for d in self.settings.reminder_days if d > 0], default=0)
        if not longest:
            return 0
        with self.engine.connect() as conn:
            candidates = conn.execute(sa.select(meetings).where(
                meetings.c.status.in_(ACTIVE_MEETING), meetings.c.starts_at > now,
                meetings.c.starts_at <= now + timedelta(days=longest))).all()
        queued = 0
        for meeting in candidates:
            days = self.due_reminder(as_utc(meeting.starts_at), now)
            if days is None:
                continue
            moment = as_utc(meeting.starts_at) - timedelta(days=days)
            prefix = f"reminder:{meeting.meeting_id}:"
            failed = 0
            with self.engine.begin() as tx:
                done = {r.logical_key for r in tx.execute(sa.select(mails.c.logical_key).where(
                    mails.c.meeting_id == meeting.meeting_id, mails.c.kind == "reminder"))}
                for recipient in tx.execute(sa.select(recipients).where(
                        recipients.c.meeting_id == meeting.meeting_id, recipients.c.status == "confirmed")):
                    key = f"{prefix}{recipient.registration_id}:{days}d"
                    if key in done:
                        continue
                    # Confirmed after the reminder's moment: the confirmation has just told them everything.
                    if recipient.confirmed_at is not None and as_utc(recipient.confirmed_at) > moment:
                        continue
                    try:
                        prepared = catalogue.reminder_mail(self.settings, meeting.state, days, recipient,
                                                           (meeting.agenda or {}).get("items"))
                    except Exception as exc:
                        # Recorded under the reminder's own key: the next rounds see it done, instead of
                        # rendering and failing again every round until the meeting.
                        failed += self._not_rendered(tx, "reminder", meeting.meeting_id, recipient, exc,
                                                     job_id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
                                                     source_type="reminder", warn=not failed, logical_key=key)
                        continue
                    queued += queue_prepared(tx, prepared, Source(
                        str(uuid.uuid5(uuid.NAMESPACE_URL, prepared.logical_key)), None,
                        compact_body("", "reminder", prepared, days=days)))
        return queued

    # ----------------------------------------------------------------------------------- digests
    def digest_period_end(self, zone: str, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(zone or "Europe/Berlin"))
        end = local.replace(hour=self.settings.digest_hour, minute=0, second=0, microsecond=0)
        if end > local:
            end -= timedelta(days=1)
        return end.astimezone(timezone.utc)

    def send_digests(self) -> int:
        if self.settings.digest_hour < 0:
            return 0  # DIGEST_HOUR=-1 switches digests off
        now = self.clock()
        with self.engine.connect() as conn:
            ids = [r.meeting_id for r in conn.execute(sa.select(meetings.c.meeting_id).where(
                meetings.c.status.in_(ACTIVE_MEETING), meetings.c.starts_at > now - timedelta(days=1)))]
        queued = 0
        for meeting_id in ids:
            with self.engine.begin() as tx:
                meeting = tx.execute(sa.select(meetings).where(meetings.c.meeting_id == meeting_id)
                                     .with_for_update(skip_locked=True)).first()
                if meeting is None or not meeting.organisers or not meeting.state:
                    continue
                until = self.digest_period_end(meeting.state.get("timezone"), now)
                since = as_utc(meeting.last_digest_at) if meeting.last_digest_at else until - timedelta(days=1)
                if since >= until:
                    continue
                # A recipients row a racing event wrote back after its erasure stays until the sweep: a digest
                # sent to organisers must not name that participant meanwhile.
                rows = tx.execute(sa.select(recipients).where(
                    recipients.c.meeting_id == meeting_id, not_erased(recipients.c.registration_id))).all()
                new = [r for r in rows if since <= as_utc(r.registered_at) < until]
                cancelled = [r for r in rows if r.cancelled_at and since <= as_utc(r.cancelled_at) < until]
                tx.execute(meetings.update().where(meetings.c.meeting_id == meeting_id).values(last_digest_at=until))
                if not new and not cancelled and not self.settings.digest_when_empty:
                    continue
                counts = {s: sum(1 for r in rows if r.status == s) for s in ("confirmed", "waitlisted", "pending")}
                mentioned = sorted({r.registration_id for r in new + cancelled})
                for organiser in current_organisers(tx, meeting_id, meeting.organisers):
                    prepared = catalogue.digest_mail(self.settings, meeting.state, organiser, since=since,
                                                     until=until, new=new, cancelled=cancelled, counts=counts)
                    queued += queue_prepared(tx, prepared, Source(
                        str(uuid.uuid5(uuid.NAMESPACE_URL, prepared.logical_key)), None,
                        json.dumps({"digest": meeting_id, "registrations": mentioned}).encode()))
        return queued

    # ----------------------------------------------------------------------------------- broadcasts
    def expand_broadcasts(self) -> int:
        return self._expand_queued(broadcasts, broadcasts.c.queued_at, self._expand_chunk)

    def _expand_queued(self, jobs: sa.Table, order_by, expand_chunk) -> int:
        """Every queued job of ``jobs`` (broadcasts, fan-outs), chunk after chunk until it is done."""
        with self.engine.connect() as conn:
            ids = [r.id for r in conn.execute(sa.select(jobs.c.id).where(jobs.c.status == "queued").order_by(order_by))]
        queued = 0
        for job_id in ids:
            while not self.stopped.is_set():
                n, finished = expand_chunk(job_id)
                queued += n
                if finished:
                    break
        return queued

    def _expand_chunk(self, broadcast_id: str) -> tuple[int, bool]:
        chunk = self.settings.broadcast_chunk
        with self.engine.begin() as tx:
            b = tx.execute(sa.select(broadcasts).where(broadcasts.c.id == broadcast_id)
                           .with_for_update(skip_locked=True)).first()
            if b is None or b.status != "queued":
                return 0, True
            meeting = tx.execute(sa.select(meetings.c.state).where(meetings.c.meeting_id == b.meeting_id)).first()
            query = audience_query(b.meeting_id, b.audience, b.audience_value).order_by(recipients.c.registration_id)
            if b.expanded_through:
                query = query.where(recipients.c.registration_id > b.expanded_through)
            rows = tx.execute(query.limit(chunk)).all()
            wanted = audience_filter(b.audience, b.audience_value)
            rendered: dict = {}  # the broadcast rendered once per shape of links (catalogue.broadcast_mail)
            count = failed = 0
            for recipient in rows:
                if not wanted(recipient):
                    continue
                try:
                    prepared = catalogue.broadcast_mail(self.settings, meeting.state, b, recipient,
                                                        rendered=rendered)
                except Exception as exc:
                    failed += self._not_rendered(tx, "broadcast", b.meeting_id, recipient, exc, job_id=b.id,
                                                 source_type="broadcast", subject=b.subject, warn=not failed)
                    continue
                count += queue_prepared(tx, prepared, Source(b.id, None, compact_body(b.id, "broadcast", prepared)))
            finished = len(rows) < chunk
            # Those whose mail failed were recipients too: the page counts them under "failed".
            values = {"expanded_through": rows[-1].registration_id if rows else b.expanded_through,
                      "recipient_count": (b.recipient_count or 0) + count + failed}
            if finished:
                values.update(status="sent", expanded_at=self.clock())
            tx.execute(broadcasts.update().where(broadcasts.c.id == broadcast_id).values(**values))
        return count, finished

    # ----------------------------------------------------------------------------------- fan-outs
    def expand_fanouts(self) -> int:
        """agenda.published and round.results_published, recorded by the consumer: one mail per recipient,
        in chunks of ``broadcast_chunk`` recipients (registration id order), each chunk its own transaction."""
        return self._expand_queued(fanouts, fanouts.c.created_at, self._expand_fanout_chunk)

    def _expand_fanout_chunk(self, fanout_id: str) -> tuple[int, bool]:
        chunk = self.settings.broadcast_chunk
        with self.engine.begin() as tx:
            job = tx.execute(sa.select(fanouts).where(fanouts.c.id == fanout_id)
                             .with_for_update(skip_locked=True)).first()
            if job is None or job.status != "queued":
                return 0, True  # another worker holds it (or finished it)
            query = (sa.select(recipients).where(recipients.c.meeting_id == job.meeting_id,
                                                 recipients.c.status == "confirmed")
                     .order_by(recipients.c.registration_id))
            if job.expanded_through:
                query = query.where(recipients.c.registration_id > job.expanded_through)
            rows = tx.execute(query.limit(chunk)).all()
            payload, event_type = job.payload, FANOUT_EVENT_TYPES[job.kind]
            count = failed = 0
            for recipient in rows:
                try:
                    prepared = self._fanout_mail(job.kind, payload, recipient)
                except Exception as exc:
                    failed += self._not_rendered(tx, job.kind, job.meeting_id, recipient, exc, job_id=job.id,
                                                 source_type=event_type, correlation_id=job.correlation_id,
                                                 warn=not failed)
                    continue
                if prepared is None:
                    continue
                count += queue_prepared(tx, prepared, Source(job.id, job.correlation_id,
                                                             compact_body(job.id, event_type, prepared)))
            finished = len(rows) < chunk
            # The job's mails, failed ones included: as many as its rows in the delivery log.
            values = {"expanded_through": rows[-1].registration_id if rows else job.expanded_through,
                      "recipient_count": (job.recipient_count or 0) + count + failed}
            if finished:
                values.update(status="done", done_at=self.clock())
            tx.execute(fanouts.update().where(fanouts.c.id == fanout_id).values(**values))
        if finished:
            log_event(log, "fanout_expanded", fanout_id=fanout_id, kind=job.kind, meeting_id=job.meeting_id,
                      mails=values["recipient_count"])
        return count, finished

    def _not_rendered(self, tx: sa.Connection, kind: str, meeting_id: str, recipient, exc: Exception, *,
                      job_id: str, source_type: str, warn: bool, correlation_id: str | None = None,
                      subject: str | None = None, logical_key: str | None = None) -> int:
        """A recipient of a broadcast, fan-out, agenda change or reminder whose mail cannot be rendered (their data does not fit the
        template): recorded as that mail failed for good, so that it is in the meeting's delivery log with the
        reason, ``notification.failed`` and a dead letter tell operators, and (``warn``) the organisers are warned,
        as for a mail the SMTP server refused; the chunk's other mails go on. 1 if recorded. The key is per job
        (for a broadcast the mail's own): a failure is recorded once however often the job is looked at.
        Callers warn for a chunk's first failure only: a template that fails for everyone would otherwise send
        each organiser one warning per participant (the warning points to the delivery log for the others)."""
        # A KeyError says only the key: the type tells organisers and operators what kind of problem it was.
        error = (str(exc) if isinstance(exc, RejectedMessage) else f"{type(exc).__name__}: {exc}")[:300]
        log_event(log, "mail_not_rendered", logging.ERROR, kind=kind, job_id=job_id,
                  registration_id=recipient.registration_id, error=error)
        placeholder = Prepared(kind, logical_key or f"{kind}:{meeting_id}:{recipient.registration_id}:{job_id}"[:200],
                               str((recipient.participant or {}).get("email") or ""), subject or "", b"",
                               meeting_id, recipient.registration_id)
        return int(record_unrendered_mail(
            tx, logical_key=placeholder.logical_key, kind=kind, source_message_id=job_id,
            source_body=compact_body(job_id, source_type, placeholder), correlation_id=correlation_id,
            recipient=placeholder.recipient, meeting_id=meeting_id, registration_id=recipient.registration_id,
            subject=subject, error=error, dead_letter_queue=self.dead_letter_queue,
            on_failed=self.on_failed if warn else None))

    def _fanout_mail(self, kind: str, payload: dict, recipient):
        """The job's mail for one confirmed recipient, or None if it is not for them."""
        if kind == "agenda_published":
            return catalogue.agenda_published_mail(self.settings, payload["meeting"], payload["agenda"], recipient)
        round_id = payload["round"]["item_id"]
        if not any(r["item_id"] == round_id and r.get("held", True) for r in recipient.rounds or []):
            return None  # results go to those holding a place in that round
        return catalogue.round_results_mail(self.settings, payload, recipient)

    def prune_fanouts(self) -> int:
        """Done fan-out jobs are kept ``FANOUT_KEEP_DAYS`` (what went out when, how many mails), then deleted;
        the inbox still knows the event, so a late redelivery does not bring the job back."""
        if self.settings.fanout_keep_days < 0:
            return 0  # -1: kept for good
        cutoff = self.clock() - timedelta(days=self.settings.fanout_keep_days)
        with self.engine.begin() as tx:
            return tx.execute(fanouts.delete().where(fanouts.c.status == "done", fanouts.c.done_at < cutoff)).rowcount
