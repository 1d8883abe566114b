"""A minimal AMQP 1.0 broker that speaks enough Service Bus for ``azure-servicebus`` to run on it.

No Service Bus broker installs on this machine (see TOOLING.md), so the Service Bus adapter is
tested over real AMQP against this one, on ``python-qpid-proton``, in its own thread. It covers:

- ``$cbs`` put-token: answered with 200 (any token is accepted);
- sending, single or batched (the SDK's batch carries each message encoded in one data section;
  proton's Python binding does not expose the 0x80013700 message format, so a batch is
  recognised by its data sections all holding encoded AMQP sections);
- peek-lock receiving: the delivery tag is the lock token (UUID, little-endian bytes as the SDK
  reads it), ``x-opt-locked-until`` is set and a lock expires after ``lock_seconds``;
- the header's ``delivery-count`` as AMQP 1.0 and Service Bus define it: the number of earlier
  delivery attempts, 0 on a first delivery (``_Stored.delivery_count`` counts deliveries made,
  this one included, as ``max_delivery_count`` does);
- settlement, echoed so the SDK's awaited outcome matches: accepted = complete, modified =
  abandon (next delivery counts one more), rejected with ``com.microsoft:dead-letter`` =
  dead-letter into ``<queue>/$deadletterqueue``, released = back without counting;
- ``max_delivery_count`` (reason ``MaxDeliveryCountExceeded``) and duplicate detection by
  message id over the broker's lifetime.

Not covered: ``$management`` operations (peek, schedule, defer, lock renewal, sessions) are
answered 501 so the SDK fails fast; no TLS, token validation, size limits or sessions.
Broker state lives on the container thread only.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from proton import (
    Condition,
    Data,
    Delivery,
    Endpoint,
    Handler,
    Link,
    Message,
    symbol,
    timestamp,
)
from proton.handlers import Handshaker
from proton.reactor import ApplicationEvent, Container, EventInjector

# proton types every event attribute as Optional, whichever the event is
ProtonEvent = Any

DEAD_LETTER_SUFFIX = "/$deadletterqueue"
DATA_SECTION = 0x75
SECTION_CODES = range(0x70, 0x79)  # header … footer: what an encoded message starts with


@dataclass
class _Stored:
    message: Message
    sequence_number: int
    enqueued_at: float
    delivery_count: int = 0


@dataclass
class _Lock:
    queue: str
    stored: _Stored
    delivery: Delivery


@dataclass
class _State:
    ready: dict[str, deque[_Stored]] = field(default_factory=lambda: defaultdict(deque))
    locks: dict[bytes, _Lock] = field(default_factory=dict)
    seen_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    consumers: list[Link] = field(default_factory=list)


def split_transfer(payload: bytes) -> list[Message]:
    """One message, or each message of an SDK batch (format 0x80013700)."""
    bodies: list[bytes] = []
    offset = 0
    while offset < len(payload):
        data = Data()
        offset += data.decode(payload[offset:])
        data.rewind()
        data.next()
        section: Any = data.get_object()
        if int(section.descriptor) == DATA_SECTION:
            bodies.append(bytes(section.value))  # copy: the view dies with ``data``
    is_batch = bool(bodies) and all(
        len(body) > 2 and body[:2] == b"\x00\x53" and body[2] in SECTION_CODES for body in bodies
    )
    messages = []
    for encoded in bodies if is_batch else [payload]:
        message = Message()
        message.decode(encoded)
        if isinstance(message.body, memoryview):
            message.body = bytes(message.body)  # same: own the bytes beyond this decode
        messages.append(message)
    return messages


def entity(address: str | None) -> str:
    """``amqps://host:port/q/$deadletterqueue`` → ``q/$deadletterqueue``."""
    path = address or ""
    if "://" in path:
        path = path.split("://", 1)[1].split("/", 1)[-1]
    if path.lower().endswith(DEAD_LETTER_SUFFIX):  # the SDK spells it $DeadLetterQueue
        path = path[: -len(DEAD_LETTER_SUFFIX)] + DEAD_LETTER_SUFFIX
    return path


class _BrokerHandler(Handler):
    def __init__(self, broker: AmqpTestBroker) -> None:
        super().__init__()
        self.handlers = [Handshaker()]  # opens what the client opens, copying its termini
        self._broker = broker
        self._state = _State()
        self._sequence = itertools.count(1)

    # --- container lifecycle -------------------------------------------------------------
    def on_reactor_init(self, event: ProtonEvent) -> None:
        self._container = event.container
        self._acceptor = event.container.listen(f"127.0.0.1:{self._broker.port}")
        event.container.selectable(self._broker.injector)
        self._broker.started.set()

    def on_broker_stop(self, event: ProtonEvent) -> None:
        self._acceptor.close()
        self._broker.injector.close()
        for link in self._state.consumers:
            link.connection.close()
        self._container.stop()

    # --- links ---------------------------------------------------------------------------
    def on_link_remote_open(self, event: ProtonEvent) -> None:
        link = event.link
        if link.is_receiver:
            link.flow(100)
        elif entity(link.remote_source.address) != "$cbs" and not entity(
            link.remote_source.address
        ).endswith("/$management"):
            link.snd_settle_mode = link.remote_snd_settle_mode
            self._state.consumers.append(link)

    def on_link_remote_close(self, event: ProtonEvent) -> None:
        self._forget(event.link)

    def on_connection_remote_close(self, event: ProtonEvent) -> None:
        for link in [link for link in self._state.consumers if link.connection == event.connection]:
            self._forget(link)

    def _forget(self, link: Link) -> None:
        """A receiver went away: its locked messages are released (not counted)."""
        if link in self._state.consumers:
            self._state.consumers.remove(link)
        for token, lock in list(self._state.locks.items()):
            if lock.delivery.link == link:
                del self._state.locks[token]
                lock.stored.delivery_count -= 1
                self._return(lock.queue, lock.stored)

    def on_link_flow(self, event: ProtonEvent) -> None:
        if event.link.is_sender:
            self._pump()

    # --- incoming: publishes and $cbs requests ---------------------------------------------
    def on_delivery(self, event: ProtonEvent) -> None:
        delivery = event.delivery
        if delivery.link.is_sender:
            self._settled_by_client(delivery)
            return
        if not delivery.readable or delivery.partial:
            return
        link = delivery.link
        payload = bytes(link.recv(delivery.pending))
        link.advance()
        link.flow(1)
        address = entity(link.remote_target.address)
        for message in split_transfer(payload):
            if address == "$cbs":
                self._reply(link, message, {"status-code": 200, "status-description": "OK"})
            elif address.endswith("/$management"):  # peek, renew-lock, schedule…: fail fast
                self._reply(
                    link,
                    message,
                    {"statusCode": 501, "statusDescription": "not supported by the test broker"},
                )
            else:
                self._enqueue(address, message)
        delivery.update(Delivery.ACCEPTED)
        delivery.settle()
        self._pump()

    def _reply(self, link: Link, request: Message, status: dict[str, object]) -> None:
        """Answer on the connection's link back from the node the request went to."""
        reply = Message(correlation_id=request.id, properties=status)
        node = entity(link.remote_target.address)
        candidate = link.connection.link_head(Endpoint.LOCAL_ACTIVE)
        while candidate:
            if candidate.is_sender and entity(candidate.source.address) == node:
                reply.send(candidate, tag=uuid.uuid4().bytes)  # type: ignore[arg-type]
                return
            candidate = candidate.next(Endpoint.LOCAL_ACTIVE)

    def _enqueue(self, queue: str, message: Message) -> None:
        message_id = str(message.id)
        if message_id in self._state.seen_ids[queue]:
            return  # duplicate detection: accepted and dropped, as Service Bus does
        self._state.seen_ids[queue].add(message_id)
        self._state.ready[queue].append(_Stored(message, next(self._sequence), time.time()))

    # --- outgoing: peek-lock deliveries ----------------------------------------------------
    def _pump(self) -> None:
        for link in list(self._state.consumers):
            queue = self._state.ready[entity(link.source.address)]
            while link.credit > 0 and queue:
                self._deliver(link, queue.popleft())
            if link.drain_mode:
                link.drained()

    def _deliver(self, link: Link, stored: _Stored) -> None:
        stored.delivery_count += 1
        locked_until = time.time() + self._broker.lock_seconds
        message = stored.message
        # AMQP 1.0's header counts the earlier attempts, so a first delivery carries 0, as
        # Service Bus sends it; the SDK passes the header on unchanged.
        message.delivery_count = stored.delivery_count - 1
        message.annotations = {
            symbol("x-opt-sequence-number"): stored.sequence_number,
            symbol("x-opt-enqueued-time"): timestamp(int(stored.enqueued_at * 1000)),
            symbol("x-opt-locked-until"): timestamp(int(locked_until * 1000)),
        }
        token = uuid.uuid4().bytes_le
        delivery = message.send(link, tag=token)  # type: ignore[arg-type]
        if link.snd_settle_mode == Link.SND_SETTLED:  # receive-and-delete: settled by send()
            return
        # Kept on the delivery itself: proton reuses freed deliveries' memory (and so their
        # identity), and reads tags back as UTF-8, which a UUID's bytes are not.
        delivery.lock_token = token
        self._state.locks[token] = _Lock(entity(link.source.address), stored, delivery)
        self._container.schedule(self._broker.lock_seconds, _LockTimer(self, token))

    def expire(self, token: bytes) -> None:
        lock = self._state.locks.pop(token, None)
        if lock is not None:
            self._return(lock.queue, lock.stored)
            self._pump()

    def _settled_by_client(self, delivery: Delivery) -> None:
        if not delivery.updated or delivery.local_state:
            return
        outcome = delivery.remote_state
        lock = self._state.locks.pop(getattr(delivery, "lock_token", b""), None)
        if lock is None:  # the lock expired first: tell the SDK (MessageLockLostError)
            delivery.local.condition = Condition(
                "com.microsoft:message-lock-lost", "the lock expired before settlement"
            )
            delivery.update(Delivery.REJECTED)
            delivery.settle()
            return
        if outcome == Delivery.MODIFIED:
            self._return(lock.queue, lock.stored)
        elif outcome == Delivery.RELEASED:
            lock.stored.delivery_count -= 1
            self._return(lock.queue, lock.stored)
        elif outcome == Delivery.REJECTED:
            condition = delivery.remote.condition
            info: dict[Any, Any] = dict(condition.info or {}) if condition else {}  # type: ignore[arg-type]
            self._dead_letter(
                lock.queue,
                lock.stored,
                str(info.get("DeadLetterReason") or "Rejected"),
                str(info.get("DeadLetterErrorDescription") or ""),
            )
        delivery.update(outcome)
        delivery.settle()
        self._pump()

    def _return(self, queue: str, stored: _Stored) -> None:
        limit = self._broker.max_delivery_count
        if not queue.endswith(DEAD_LETTER_SUFFIX) and stored.delivery_count >= limit:
            self._dead_letter(
                queue, stored, "MaxDeliveryCountExceeded", f"not settled after {limit} deliveries"
            )
        else:
            self._state.ready[queue].appendleft(stored)

    def _dead_letter(self, queue: str, stored: _Stored, reason: str, description: str) -> None:
        properties: dict[Any, Any] = dict(stored.message.properties or {})
        properties.update(DeadLetterReason=reason, DeadLetterErrorDescription=description)
        stored.message.properties = properties  # type: ignore[assignment]
        self._state.ready[queue + DEAD_LETTER_SUFFIX].append(stored)


class _LockTimer:
    def __init__(self, handler: _BrokerHandler, token: bytes) -> None:
        self._handler, self._token = handler, token

    def on_timer_task(self, _event: object) -> None:
        self._handler.expire(self._token)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AmqpTestBroker:
    """Runs on its own thread; ``with AmqpTestBroker() as broker:`` gives ``connection_string``."""

    def __init__(self, lock_seconds: float = 30.0, max_delivery_count: int = 10) -> None:
        self.lock_seconds = lock_seconds
        self.max_delivery_count = max_delivery_count
        self.port = free_port()
        self.started = threading.Event()
        self.injector = EventInjector()
        self._container = Container(_BrokerHandler(self))
        self._thread = threading.Thread(target=self._container.run, name="amqp-broker", daemon=True)

    @property
    def connection_string(self) -> str:
        return (
            f"Endpoint=sb://127.0.0.1:{self.port};SharedAccessKeyName=x;SharedAccessKey=x;"
            "UseDevelopmentEmulator=true;"
        )

    def start(self) -> AmqpTestBroker:
        self._thread.start()
        if not self.started.wait(5):
            raise RuntimeError("the AMQP test broker did not start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.injector.trigger(ApplicationEvent("broker_stop"))
        self._thread.join(5)
        if self._thread.is_alive():
            raise RuntimeError("the AMQP test broker did not stop")

    def __enter__(self) -> AmqpTestBroker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
