"""The notify worker's Prometheus metrics, in a registry of their own (served by ``health``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from intake_core.adapters.local_queue import LocalQueue

OUTCOMES = ("sent", "duplicate", "erased", "retried", "dead_lettered")


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.outcomes = Counter(
            "notify_messages_total",
            "Messages settled by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "notify_messages_in_flight", "Messages being handled", registry=self.registry
        )
        self.bus_errors = Counter(
            "notify_bus_errors",
            "Receive or settle calls to the bus that failed (the worker backs off and goes on)",
            registry=self.registry,
        )
        self.submit_to_email = Histogram(
            "notify_submission_to_email_seconds",
            "From the submission's commit to its email being sent (freshness SLI)",
            buckets=(0.25, 0.5, 1, 2, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 21600),
            registry=self.registry,
        )
        self.mailer_breaker_open = Gauge(
            "notify_mailer_breaker_open",
            "1 while the mailer's circuit breaker keeps messages in the queue",
            registry=self.registry,
        )
        self.store_breaker_open = Gauge(
            "notify_store_breaker_open",
            "1 while the store's circuit breaker keeps messages in the queue",
            registry=self.registry,
        )
        self.queue_messages = Gauge(
            "notify_queue_messages",
            "Messages in the embedded local queue by state (at the last scrape); on Service Bus"
            " the namespace's metrics in Azure Monitor give them",
            ["state"],
            registry=self.registry,
        )
        self.ledger_purged = Counter(
            "notify_ledger_purged_total",
            "Ledger entries purged from the embedded store 30 days after they were handled",
            registry=self.registry,
        )
        for outcome in OUTCOMES:  # every series exists from the start, so alerts can see 0 → 1
            self.outcomes.labels(outcome)

    async def observe_queue(self, queue: LocalQueue) -> None:
        counts = await queue.message_counts()
        self.queue_messages.labels("ready").set(counts.ready)
        self.queue_messages.labels("locked").set(counts.locked)
        self.queue_messages.labels("dead_lettered").set(counts.dead_lettered)
