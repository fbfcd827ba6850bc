"""The Prometheus registry of one app: what an operator watches to see the next bottleneck
before candidates do: request latency per route, requests waiting for a slot or rejected,
database connection waits, the grading queue's depth and age, and the kernel pool."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("burnin.metrics")

# Latency buckets from a fast autosave (a few ms) to a request stuck behind a lock.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
GC_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "burnin_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "burnin_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge("burnin_http_in_flight", "API requests being worked on",
                               registry=self.registry)
        self.admission_waiting = Gauge(
            "burnin_http_admission_waiting", "API requests waiting for a slot",
            registry=self.registry)
        self.admission_wait = Histogram(
            "burnin_http_admission_wait_seconds",
            "Time an API request waited for a slot (admitted or turned away)",
            buckets=WAIT_BUCKETS, registry=self.registry)
        self.db_write_wait = Histogram(
            "burnin_db_write_turn_wait_seconds",
            "Time a SQLite write waited for the one writer's turn of this process",
            buckets=WAIT_BUCKETS, registry=self.registry)
        self.admission_rejected = Counter(
            "burnin_http_admission_rejected_total",
            "API requests answered 503 because no slot freed in time", registry=self.registry)
        self.db_pool_wait = Histogram(
            "burnin_db_pool_wait_seconds", "Time a checkout waited for a database connection",
            buckets=WAIT_BUCKETS, registry=self.registry)
        self.gc_pause = Histogram(
            "burnin_gc_pause_seconds", "Garbage-collector pauses (every thread waits)",
            ["generation"], buckets=GC_BUCKETS, registry=self.registry)
        self.db_unavailable = Counter(
            "burnin_db_unavailable_total",
            "Requests answered 503 because the database could not serve them", ["reason"],
            registry=self.registry)

    def watch(self, name: str, collect: Callable[[], Iterator[Any]]) -> None:
        """Add gauges computed at scrape time (pool sizes, queue depth)."""
        self.registry.register(_Probe(name, collect))


class _Probe(Collector):
    def __init__(self, name: str, collect: Callable[[], Iterator[Any]]) -> None:
        self.name, self._collect = name, collect

    def collect(self) -> Iterator[Any]:
        try:
            yield from self._collect()
        except Exception as exc:  # a scrape must never fail because one probe did
            log.warning("metrics probe failed", extra={"probe": self.name,
                                                       "error": str(exc)[:200]})

    def describe(self) -> list[Any]:
        return []  # collected lazily, never at registration


def db_pool_metrics(engine: Any) -> Callable[[], Iterator[Any]]:
    def collect() -> Iterator[Any]:
        pool = engine.pool
        if not hasattr(pool, "checkedout"):
            return
        g = GaugeMetricFamily("burnin_db_pool_connections", "Database connections by state",
                              labels=["state"])
        g.add_metric(["checked_out"], pool.checkedout())
        g.add_metric(["idle"], pool.checkedin())
        g.add_metric(["size"], pool.size())
        g.add_metric(["overflow"], max(0, pool.overflow()))
        yield g
    return collect


def grading_queue_metrics(stats: Callable[[], dict[str, float]]) -> Callable[[], Iterator[Any]]:
    """stats() -> {"queued": n, "running": n, "dead": n, "oldest_queued_s": s}."""
    def collect() -> Iterator[Any]:
        s = stats()
        depth = GaugeMetricFamily("burnin_grading_jobs", "Grading jobs by state",
                                  labels=["state"])
        for state in ("queued", "running", "dead"):
            depth.add_metric([state], s.get(state, 0))
        yield depth
        yield GaugeMetricFamily("burnin_grading_oldest_queued_seconds",
                                "Age of the oldest job waiting to be graded (0: none)",
                                value=s.get("oldest_queued_s", 0.0))
    return collect


def kernel_pool_metrics(stats: Callable[[], dict[str, Any] | None]) -> Callable[[], Iterator[Any]]:
    """stats() -> sandbox.pool.KernelPool.stats(), or None while no pool runs."""
    def collect() -> Iterator[Any]:
        s = stats()
        if s is None:
            return
        g = GaugeMetricFamily("burnin_kernel_pool_kernels", "Notebook kernels by state",
                              labels=["state"])
        for state in ("warm", "starting", "in_use", "waiting", "target"):
            g.add_metric([state], s[state])
        yield g
        h = HistogramMetricFamily("burnin_kernel_start_seconds", "Time to start one kernel")
        h.add_metric([], [(str(b), c) for b, c in s["start_buckets"]], s["start_sum_s"])
        yield h
        if "wait_buckets" in s:
            w = HistogramMetricFamily("burnin_kernel_wait_seconds",
                                      "Time a candidate waited for a kernel (0: one was warm)")
            w.add_metric([], [(str(b), c) for b, c in s["wait_buckets"]], s["wait_sum_s"])
            yield w
            yield GaugeMetricFamily("burnin_kernel_parallel_starts",
                                    "Kernel starts allowed at once (adaptive: AIMD on start "
                                    "latency)", value=s["max_parallel_starts"])
    return collect
