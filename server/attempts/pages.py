"""Candidate pages: invite link, rules, the timed workspace, submit, thank-you."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from server.attempts import service
from server.deps import (
    BankDep,
    CurrentCandidate,
    NotebooksDep,
    SessionDep,
    SettingsDep,
    candidate_cookie_name,
)
from server.kit.templating import render

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass
class ArtifactNode:
    """A folder (children set) or a file of the artifact tree the workspace shows."""

    name: str
    path: str
    bytes: int = 0
    children: list[ArtifactNode] | None = None
    count: int = 0
    _dirs: dict[str, ArtifactNode] = field(default_factory=dict, repr=False)


def artifact_tree(artifacts: list[dict[str, object]]) -> list[ArtifactNode]:
    """Folders first, then files, each sorted by name; a folder knows its file count, so
    127 files are a handful of collapsed folders and one tab stop each, not 254 links."""
    root = ArtifactNode("", "", children=[])
    for a in artifacts:
        path = str(a["path"])
        size = a["bytes"]
        parts = path.split("/")
        node = root
        for i, part in enumerate(parts[:-1]):
            sub = node._dirs.get(part)
            if sub is None:
                sub = ArtifactNode(part, "/".join(parts[:i + 1]), children=[])
                node._dirs[part] = sub
                assert node.children is not None
                node.children.append(sub)
            sub.count += 1
            node = sub
        assert node.children is not None
        node.children.append(ArtifactNode(parts[-1], path,
                                          bytes=size if isinstance(size, int) else 0))

    def order(node: ArtifactNode) -> None:
        if node.children is None:
            return
        node.children.sort(key=lambda n: (n.children is None, n.name))
        for child in node.children:
            order(child)

    order(root)
    assert root.children is not None
    return root.children


@router.get("/i/{token}")
def open_link(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Exchange the invite token for a session cookie, so the address bar no longer shows it."""
    _, cookie, _ = service.open_invite(session, settings.secret_key, token[:200])
    response = RedirectResponse("/take", status_code=303, headers=NO_STORE)
    response.set_cookie(candidate_cookie_name(settings), cookie, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/",
                        max_age=service.CANDIDATE_SESSION_DAYS * 86400)
    return response


@router.get("/take")
def landing(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
            settings: SettingsDep) -> Response:
    st = service.state(session, who, bank, settings.save_grace_s)
    if st.status == "in_progress":
        return RedirectResponse("/take/0", status_code=303)
    if st.status == "submitted":
        return RedirectResponse("/take/done", status_code=303)
    return render(request, "take_landing.html", {
        **service.page_context(session, who), "state": st,
        "instructions_html": service.instructions_html(session, who)})


@router.post("/take/start")
def start(who: CurrentCandidate, session: SessionDep, bank: BankDep) -> Response:
    service.start_for(session, who, bank)
    return RedirectResponse("/take/0", status_code=303)


@router.get("/take/done")
def done(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
         settings: SettingsDep) -> Response:
    st = service.state(session, who, bank, settings.save_grace_s)
    if st.status != "submitted":
        return RedirectResponse("/take", status_code=303)
    return render(request, "take_done.html", {**service.page_context(session, who), "state": st})


@router.post("/take/submit")
def submit(who: CurrentCandidate, session: SessionDep, settings: SettingsDep,
           notebooks: NotebooksDep) -> Response:
    service.submit_for(session, who, notebooks, settings.save_grace_s)
    return RedirectResponse("/take/done", status_code=303)


@router.get("/take/{index}")
def workspace(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
              settings: SettingsDep, index: int = Path(ge=0, le=99)) -> Response:
    st = service.state(session, who, bank, settings.save_grace_s)
    if st.status == "not_started":
        return RedirectResponse("/take", status_code=303)
    if st.status == "submitted":
        return RedirectResponse("/take/done", status_code=303)
    _, scenario = service.scenario_for(session, who, bank, index, settings.save_grace_s)
    code_files = service.code_files(scenario)
    return render(request, "take_scenario.html", {
        **service.page_context(session, who), "state": st, "s": scenario, "index": index,
        "has_code": bool(code_files), "first_code_file": code_files[0] if code_files else "",
        "artifact_tree": artifact_tree(scenario.artifacts),
        "artifact_kib": sum(int(a["bytes"]) for a in scenario.artifacts) / 1024,
        "run_timeout": int(settings.run_timeout_s)})
