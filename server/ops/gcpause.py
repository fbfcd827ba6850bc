"""Garbage-collector pauses of the API process.

A full (generation 2) collection stops every thread of the process while it walks every
container object that survived earlier collections. After startup that is the whole loaded
bank (scenario manifests, rubrics, templates: ~170,000 objects), and one such collection
took 0.1-0.9 s on the 2-core VM (the lower figure on idle cores): every request in flight
waits for it, which is the autosave's p99 under load (docs/benchmarks.md, "Load").

`freeze_startup` moves what startup built into the collector's permanent generation
(`gc.freeze`, the pattern CPython documents for servers that load once and then serve), so
later collections walk only what requests created since. `GcPauses` records each
collection's duration per generation in the app's metrics, so an operator sees the pauses
(`burnin_gc_pause_seconds`)."""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram


def freeze_startup() -> int:
    """Collect what startup left as garbage, then exempt every surviving object from later
    collections. Returns how many objects are frozen. Call once, after the app is built and
    before it serves (a frozen object that later becomes cyclic garbage is never freed:
    only what lives for the whole process belongs there)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class GcPauses:
    """A gc callback timing every collection into `histogram` (labelled by generation)."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            self.histogram.labels(str(info.get("generation", "?"))).observe(
                time.perf_counter() - self._started)
            self._started = 0.0

    def install(self) -> GcPauses:
        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)
