"""Prometheus metrics, in a registry per app so several apps can live in one process (tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from intake_core.http_metrics import HttpMetrics


class ApiMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__(CollectorRegistry(auto_describe=True))
        self.submissions = Counter(
            "intake_submissions",
            "Submission requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "intake_outbox_backlog",
            "Events written to the outbox and not yet published (at the last scrape)",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "intake_outbox_oldest_age_seconds",
            "Age of the oldest outbox event not yet published, 0 when none (at the last scrape)",
            registry=self.registry,
        )
        self.store_breaker_open = Gauge(
            "intake_store_breaker_open",
            "1 while the store's circuit breaker answers 503 without calling the store",
            registry=self.registry,
        )
        self.bus_breaker_open = Gauge(
            "intake_bus_breaker_open",
            "1 while the fast-path publish is skipped after a bus failure (the relay publishes)",
            registry=self.registry,
        )
        self.relay_published = Counter(
            "intake_relay_published",
            "Outbox events published, by path: fast (right after the commit) or relay",
            ["path"],
            registry=self.registry,
        )
        self.relay_publish_duration = Histogram(
            "intake_relay_publish_duration_seconds",
            "Time one publish call to the bus took (it may carry a batch of events)",
            ["path"],
            registry=self.registry,
        )
        self.relay_failures = Counter(
            "intake_relay_publish_failures",
            "Attempts to publish an outbox event that failed (the relay retries it later)",
            ["path"],
            registry=self.registry,
        )

        self.store_purged = Counter(
            "intake_store_purged",
            "Rows the relay deleted from the embedded store when Cosmos DB's TTL would have, by"
            " kind: outbox_event (a week after publishing), idempotency_key (a week after first"
            " use); Cosmos DB expires them itself",
            ["kind"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
