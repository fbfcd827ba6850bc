"""Candidate pages: invite link, rules, the timed workspace, submit, thank-you."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from server.attempts import service
from server.attempts.router import scenario_for, state
from server.deps import (
    BankDep,
    CurrentCandidate,
    SessionDep,
    SettingsDep,
    candidate_cookie_name,
)
from server.kit.templating import render
from server.models import Assessment, Invite, Organization

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/i/{token}")
def open_link(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Exchange the invite token for a session cookie, so the address bar no longer shows it."""
    _, cookie, _ = service.open_invite(session, token[:200])
    response = RedirectResponse("/take", status_code=303, headers=NO_STORE)
    response.set_cookie(candidate_cookie_name(settings), cookie, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/",
                        max_age=service.CANDIDATE_SESSION_DAYS * 86400)
    return response


def _common(session: SessionDep, who: CurrentCandidate) -> dict[str, object]:
    invite = session.get_one(Invite, who.invite_id)
    org = session.get_one(Organization, who.org_id)
    return {"candidate": who, "assessment": session.get_one(Assessment, who.assessment_id),
            "brand": org.settings.get("branding_name") or org.name,
            "contact": org.settings.get("accommodations_contact") or "the recruiter who invited you",
            "invite": invite}


@router.get("/take")
def landing(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
            settings: SettingsDep) -> Response:
    st = state(session, who, bank, settings.save_grace_s)
    if st.status == "in_progress":
        return RedirectResponse("/take/0", status_code=303)
    if st.status == "submitted":
        return RedirectResponse("/take/done", status_code=303)
    from scenarios.render import markdown_to_html

    ctx = _common(session, who)
    instructions = markdown_to_html(ctx["assessment"].instructions)  # type: ignore[attr-defined]
    return render(request, "take_landing.html", {**ctx, "state": st,
                                                 "instructions_html": instructions},
                  )


@router.post("/take/start")
def start(who: CurrentCandidate, session: SessionDep) -> Response:
    service.start(session, session.get_one(Invite, who.invite_id))
    return RedirectResponse("/take/0", status_code=303)


@router.get("/take/done")
def done(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
         settings: SettingsDep) -> Response:
    st = state(session, who, bank, settings.save_grace_s)
    if st.status != "submitted":
        return RedirectResponse("/take", status_code=303)
    return render(request, "take_done.html", {**_common(session, who), "state": st})


@router.post("/take/submit")
def submit(who: CurrentCandidate, session: SessionDep) -> Response:
    attempt = service.attempt_of(session, who.invite_id)
    if attempt is not None:
        service.submit(session, attempt)
    return RedirectResponse("/take/done", status_code=303)


@router.get("/take/{index}")
def workspace(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
              settings: SettingsDep, index: int = Path(ge=0, le=99)) -> Response:
    st = state(session, who, bank, settings.save_grace_s)
    if st.status == "not_started":
        return RedirectResponse("/take", status_code=303)
    if st.status == "submitted":
        return RedirectResponse("/take/done", status_code=303)
    _, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    code_files = [n for f in scenario.form if f["type"] == "code" for n in f["files"]]
    return render(request, "take_scenario.html", {
        **_common(session, who), "state": st, "s": scenario, "index": index,
        "has_code": bool(code_files), "first_code_file": code_files[0] if code_files else "",
        "run_timeout": int(settings.run_timeout_s)})
