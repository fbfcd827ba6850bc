"""The scenario bank as the server sees it: loaded once, listed with filters, rendered per seed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from pydantic import BaseModel

from scenarios.loader import Bank, Scenario, load_bank
from scenarios.render import CandidateView
from server.bank.errors import ScenarioNotFound

VIEW_CACHE_SIZE = 64


class ScenarioSummary(BaseModel):
    id: str
    version: int
    title: str
    summary: str
    kind: str
    dimensions: list[str]
    stack_layers: list[str]
    difficulty: str
    time_estimate_min: int


class BankService:
    def __init__(self, root: Path | None = None) -> None:
        self.bank: Bank = load_bank(root)
        self._views: OrderedDict[tuple[str, int], CandidateView] = OrderedDict()
        self._lock = threading.Lock()
        # The answer form comes from the manifest, never from the variant: an autosave
        # checks its field ids here instead of rendering the candidate's variant.
        self._field_ids = {sid: frozenset(f.id for f in s.manifest.answer.fields)
                           for sid, s in self.bank.scenarios.items()}

    def summaries(
        self,
        *,
        q: str | None = None,
        skill: str | None = None,
        layer: str | None = None,
        difficulty: str | None = None,
        max_minutes: int | None = None,
    ) -> list[ScenarioSummary]:
        out = []
        for s in sorted(self.bank.scenarios.values(), key=lambda s: s.manifest.title):
            m = s.manifest
            summary = ScenarioSummary(
                id=m.id, version=m.version, title=m.title, summary=m.summary, kind=str(m.kind),
                dimensions=[str(d) for d in m.dimensions],
                stack_layers=[str(x) for x in m.stack_layers], difficulty=str(m.difficulty),
                time_estimate_min=m.time_estimate_min,
            )
            if q and q.lower() not in f"{m.id} {m.title} {m.summary}".lower():
                continue
            if skill and skill not in summary.dimensions:
                continue
            if layer and layer not in summary.stack_layers:
                continue
            if difficulty and difficulty != summary.difficulty:
                continue
            if max_minutes is not None and m.time_estimate_min > max_minutes:
                continue
            out.append(summary)
        return out

    def get(self, scenario_id: str) -> Scenario:
        try:
            return self.bank.get(scenario_id)
        except KeyError:
            raise ScenarioNotFound(f"no scenario {scenario_id!r} in the bank") from None

    def field_ids(self, scenario_id: str) -> frozenset[str]:
        """The ids of the scenario's answer fields (the same for every seed)."""
        found = self._field_ids.get(scenario_id)
        if found is None:
            raise ScenarioNotFound(f"no scenario {scenario_id!r} in the bank")
        return found

    def view(self, scenario_id: str, seed: int) -> CandidateView:
        """The candidate's view of one variant (prompt, form, artifacts, starter), cached."""
        key = (scenario_id, seed)
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]
        view = self.get(scenario_id).candidate_view(seed)
        with self._lock:
            self._views[key] = view
            while len(self._views) > VIEW_CACHE_SIZE:
                self._views.popitem(last=False)
        return view
