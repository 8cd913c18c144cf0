"""The broker topology, declared idempotently by every service at start-up.

::

    producers ──► <ns>.events (topic) ──meeting.* agenda.* round.* organiser.*──► <ns>.registration (quorum)
                                     └─registration.* participant.* meeting.* ─► <ns>.notify (quorum)
                                       agenda.* round.* organiser.*                 ──► notify worker

    <ns>.direct (direct): one binding per queue under its own name; used to
        • put a retried message back on its queue after its delay,
        • dead-letter a message (by us, with a reason header; or by the broker
          when a quorum queue's x-delivery-limit is exceeded).

    <ns>.<service>.retry.<ms> (classic, x-message-ttl=ms, DLX=<ns>.direct → <ns>.<service>)
    <ns>.<service>.dead       (quorum): the dead letters, kept for operators.

Every service declares the queues of *all* subscribers, so an event published
before its consumer first started is still routed and kept, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue, binding

# Who listens to what. One table for the whole system: queues are declared from it.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # registration keeps a read model of meetings and of the rounds one can choose (from the agenda), and of
    # organisers' access (which sign-ins still count).
    "registration": ("meeting.*", "agenda.*", "round.*", "organiser.*"),
    # notify mails participants about all of it, and keeps read models of meetings, agendas and recipients,
    # and of organisers' access.
    "notify": ("registration.*", "participant.*", "meeting.*", "agenda.*", "round.*", "organiser.*"),
}


# Queue names declared by this process, per namespace: what a test's clean-up must delete, whatever retry
# ladder the test chose (the queues' names depend on it).
_DECLARED: dict[str, set[str]] = {}


def declared_queue_names(namespace: str) -> set[str]:
    return set(_DECLARED.get(namespace, ()))


@dataclass(frozen=True)
class Topology:
    namespace: str = "treffpunkt"
    delivery_limit: int = 5
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)

    @property
    def events(self) -> Exchange:
        return Exchange(f"{self.namespace}.events", type="topic", durable=True)

    @property
    def direct(self) -> Exchange:
        return Exchange(f"{self.namespace}.direct", type="direct", durable=True)

    def queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}"

    def dead_letter_queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}.dead"

    def retry_queue_name(self, service: str, delay_ms: int) -> str:
        return f"{self.namespace}.{service}.retry.{delay_ms}"

    def work_queue(self, service: str, *, quorum: bool = True) -> Queue:
        name = self.queue_name(service)
        args = {
            "x-dead-letter-exchange": self.direct.name,
            "x-dead-letter-routing-key": self.dead_letter_queue_name(service),
        }
        if quorum:
            # Quorum queues on 3.10 have no default delivery limit: set it, or a poison message loops for ever.
            args.update({"x-queue-type": "quorum", "x-delivery-limit": self.delivery_limit})
        bindings = [(self.events, key) for key in SUBSCRIPTIONS[service]] + [(self.direct, name)]
        return Queue(name, bindings=[binding(ex, routing_key=key) for ex, key in bindings],
                     durable=True, queue_arguments=args)

    def dead_letter_queue(self, service: str, *, quorum: bool = True) -> Queue:
        name = self.dead_letter_queue_name(service)
        args = {"x-queue-type": "quorum"} if quorum else {}
        return Queue(name, exchange=self.direct, routing_key=name, durable=True, queue_arguments=args)

    def retry_queue(self, service: str, delay_ms: int) -> Queue:
        name = self.retry_queue_name(service, delay_ms)
        return Queue(name, exchange=self.direct, routing_key=name, durable=True, queue_arguments={
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": self.direct.name,
            "x-dead-letter-routing-key": self.queue_name(service),
        })

    def all_queues(self, *, broker_features: bool = True) -> list[Queue]:
        queues: list[Queue] = []
        for service in SUBSCRIPTIONS:
            queues.append(self.work_queue(service, quorum=broker_features))
            queues.append(self.dead_letter_queue(service, quorum=broker_features))
            if broker_features:
                queues.extend(self.retry_queue(service, d) for d in self.retry_delays_ms)
        return queues

    def declare(self, channel) -> None:
        """Declare exchanges and every queue; safe to call any number of times."""
        broker_features = supports_broker_features(channel.connection.client)
        self.events.bind(channel).declare()
        self.direct.bind(channel).declare()
        for queue in self.all_queues(broker_features=broker_features):
            queue.bind(channel).declare()
            _DECLARED.setdefault(self.namespace, set()).add(queue.name)


    def definitions(self) -> dict:
        """The same topology in RabbitMQ's definitions format, for operators (deploy/rabbitmq/definitions.json)."""
        vhost = "/"
        exchanges = [
            {"name": ex.name, "vhost": vhost, "type": ex.type, "durable": True, "auto_delete": False,
             "internal": False, "arguments": {}}
            for ex in (self.events, self.direct)
        ]
        queues, bindings = [], []
        for q in self.all_queues():
            queues.append({"name": q.name, "vhost": vhost, "durable": True, "auto_delete": False,
                           "arguments": dict(q.queue_arguments or {})})
            for b in (q.bindings or [binding(q.exchange, routing_key=q.routing_key)]):
                bindings.append({"source": b.exchange.name, "vhost": vhost, "destination": q.name,
                                 "destination_type": "queue", "routing_key": b.routing_key, "arguments": {}})
        return {"exchanges": exchanges, "queues": queues, "bindings": bindings}


def supports_broker_features(connection) -> bool:
    """Quorum queues, TTLs and dead-letter exchanges exist only on a real RabbitMQ, not in kombu's memory transport."""
    return connection.transport.driver_type == "amqp"


def topology_for(settings) -> Topology:
    """The topology a service's settings describe (namespace, delivery limit, retry ladder)."""
    return Topology(settings.namespace, settings.delivery_limit, tuple(settings.retry_delays_ms))
