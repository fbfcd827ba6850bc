"""The Prometheus registry of one app: request counts and latency per route."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "burnin_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "burnin_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry,
        )
