"""The scenario bank as the server sees it: loaded once, listed with filters, rendered per seed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from pydantic import BaseModel

from scenarios.loader import Bank, Scenario, load_bank
from scenarios.render import CandidateView
from scenarios.scale import TIER_BY_ID, scenario_tiers
from scenarios.templates import ROLE_TITLES, RoleTemplate, template_minutes
from server.bank.errors import ScenarioNotFound, TemplateNotFound

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
    roles: list[str]  # roles whose templates use the scenario (scenarios/templates.yaml)
    scale_tiers: list[str]  # tiers its variants reach; [] when its scale is fixed


class TemplateItemSummary(BaseModel):
    scenario_id: str
    title: str
    weight: float
    scale_tier: str | None
    scale_label: str | None
    time_estimate_min: int


class TemplateSummary(BaseModel):
    id: str
    role: str
    role_title: str
    title: str
    description: str
    seniority: str
    time_limit_min: int
    scenario_minutes: int
    scenarios: list[TemplateItemSummary]


class BankService:
    def __init__(self, root: Path | None = None) -> None:
        self.bank: Bank = load_bank(root)
        self._views: OrderedDict[tuple[str, int], CandidateView] = OrderedDict()
        self._lock = threading.Lock()
        # The answer form comes from the manifest, never from the variant: an autosave
        # checks its field ids here instead of rendering the candidate's variant.
        self._field_ids = {sid: frozenset(f.id for f in s.manifest.answer.fields)
                           for sid, s in self.bank.scenarios.items()}
        self._roles: dict[str, set[str]] = {}
        for t in self.bank.templates.values():
            for item in t.scenarios:
                self._roles.setdefault(item.scenario, set()).add(t.role)
        self._tiers = {sid: scenario_tiers(s) for sid, s in self.bank.scenarios.items()}

    def summaries(
        self,
        *,
        q: str | None = None,
        skill: str | None = None,
        layer: str | None = None,
        difficulty: str | None = None,
        max_minutes: int | None = None,
        kind: str | None = None,
        role: str | None = None,
        scale: str | None = None,
    ) -> list[ScenarioSummary]:
        out = []
        for s in sorted(self.bank.scenarios.values(), key=lambda s: s.manifest.title):
            m = s.manifest
            summary = ScenarioSummary(
                id=m.id, version=m.version, title=m.title, summary=m.summary, kind=str(m.kind),
                dimensions=[str(d) for d in m.dimensions],
                stack_layers=[str(x) for x in m.stack_layers], difficulty=str(m.difficulty),
                time_estimate_min=m.time_estimate_min,
                roles=sorted(self._roles.get(m.id, ())), scale_tiers=self._tiers.get(m.id, []),
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
            if kind and kind != summary.kind:
                continue
            if role and role not in summary.roles:
                continue
            if scale and scale not in summary.scale_tiers:
                continue
            out.append(summary)
        return out

    def templates(self) -> list[TemplateSummary]:
        """The role templates in file order, with each scenario's title and minutes."""
        return [self._template_summary(t) for t in self.bank.templates.values()]

    def template(self, template_id: str) -> RoleTemplate:
        found = self.bank.templates.get(template_id)
        if found is None:
            raise TemplateNotFound(f"no role template {template_id!r} (GET /api/v1/templates "
                                   "lists them)")
        return found

    def _template_summary(self, t: RoleTemplate) -> TemplateSummary:
        items = []
        for i in t.scenarios:
            m = self.bank.scenarios[i.scenario].manifest
            items.append(TemplateItemSummary(
                scenario_id=i.scenario, title=m.title, weight=i.weight, scale_tier=i.scale,
                scale_label=TIER_BY_ID[i.scale].label if i.scale else None,
                time_estimate_min=m.time_estimate_min))
        return TemplateSummary(
            id=t.id, role=t.role, role_title=ROLE_TITLES[t.role], title=t.title,
            description=t.description, seniority=t.seniority, time_limit_min=t.time_limit_min,
            scenario_minutes=template_minutes(t, self.bank.scenarios), scenarios=items)

    def tiers(self, scenario_id: str) -> list[str]:
        """The scale tiers the scenario's variants reach ([] when its scale is fixed)."""
        return self._tiers.get(scenario_id, [])

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
