"""The investigator console (``fp console``): queue, case pages and case actions, server-rendered.

aiohttp (faust already brings it) and Jinja2 templates with autoescaping on (every value is
HTML-escaped: a ``<script>`` in a note shows as text), no front-end build step. Every page and
action needs an investigator (``app.console.auth``: a token from the environment, then a signed
session cookie; 401 without one); every form carries a CSRF token (403 without the right one);
every action records who did it, because the command carries the investigator as its actor.
Actions are case-management commands (``app.cases``) and answer with their refusals' statuses:
404 no case, 409 an illegal transition or a stale version, 403 a verdict without the right, 413
a note over the limit.

The queue sorts by priority (the decision's score, highest first) then age, with filters on
state, assignee, verdict, minimum score and SLA age bracket (0-2, 3-10, 11-30, > 30 days since
the case's OPENED time). "Next case" claims the highest-priority OPEN case for the investigator
(a claim is a versioned command: two investigators racing for one case cannot both get it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from app.cases.evidence import card_usual, entity_context, read_evidence, top_features
from app.cases.log import list_case_ids, read_case, run_command
from app.cases.model import ACTIONS, Case, CasePolicy, Claim, Refusal, command_of
from app.console.api import add_label_api
from app.console.auth import Investigators
from app.console.flow_events import FlowEvents
from app.dla.lookup import AuditIndex
from app.labels.reader import flow_label, read_label_store
from app.objectstore.base import ObjectStore
from app.rails.bundle import ScorecardBundle
from app.rails.ids import short_id
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.store import RegistryError, RegistryStore

__all__ = ["AGE_BRACKETS", "Console", "age_bracket", "build_console"]

COOKIE = "fp_console_session"
AGE_BRACKETS = ("0-2", "3-10", "11-30", ">30")
_DAY_US = 86_400_000_000
_MAX_FORM_BYTES = 16_384
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined)


def age_bracket(opened_utc: str, now_utc: str) -> str:
    """SLA age bracket of a case opened at ``opened_utc``, in whole days at ``now_utc``."""
    days = max(0, ts_to_epoch_micros(now_utc) - ts_to_epoch_micros(opened_utc)) // _DAY_US
    return "0-2" if days <= 2 else "3-10" if days <= 10 else "11-30" if days <= 30 else ">30"


@dataclass
class Console:
    store: ObjectStore
    investigators: Investigators
    policy: CasePolicy
    now_utc: Any  # () -> str: the wall clock (investigator actions, SLA ages); injected in tests
    flows: FlowEvents = field(default_factory=FlowEvents)

    # --- who -----------------------------------------------------------------------------
    def actor(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.investigators.by_token(auth[len("Bearer "):].strip())
        cookie = request.cookies.get(COOKIE)
        return self.investigators.by_cookie(cookie) if cookie else None

    def _who(self, request: web.Request) -> str:
        actor = self.actor(request)
        if actor is None:
            if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
                raise web.HTTPFound("/login")
            raise web.HTTPUnauthorized(text="401: log in with your investigator token")
        return actor

    async def _form(self, request: web.Request, actor: str) -> Any:
        if request.content_length is not None and request.content_length > _MAX_FORM_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=_MAX_FORM_BYTES,
                                                actual_size=request.content_length)
        form = await request.post()
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return form  # an API client with its token: no browser, no cross-site form
        if not self.investigators.csrf_ok(actor, str(form.get("csrf", ""))):
            raise web.HTTPForbidden(text="403: the form's CSRF token is missing or wrong")
        return form

    def _page(self, name: str, status: int = 200, **values: Any) -> web.Response:
        html = _TEMPLATES.get_template(name).render(**values)
        return web.Response(text=html, status=status, content_type="text/html")

    # --- pages ---------------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.Response:
        return self._page("login.html", error=None)

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        actor = self.investigators.by_token(str(form.get("token", "")))
        if actor is None:
            return self._page("login.html", status=401, error="unknown token")
        response = web.HTTPFound("/")
        response.set_cookie(COOKIE, self.investigators.session_cookie(actor), httponly=True,
                            samesite="Strict")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        actor = self._who(request)
        await self._form(request, actor)
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE)
        raise response

    async def _cases(self) -> list[Case]:
        cases = [await read_case(self.store, i) for i in await list_case_ids(self.store)]
        return [c for c in cases if c is not None]

    async def queue(self, request: web.Request) -> web.Response:
        actor = self._who(request)
        q = request.query
        now = self.now_utc()
        rows = []
        for case in await self._cases():
            bracket = age_bracket(case.opened.at_utc, now)
            if (q.get("state") and case.state.value != q["state"]) or \
                    (q.get("assignee") and (case.assignee or "") != q["assignee"]) or \
                    (q.get("verdict") and (case.verdict or "") != q["verdict"]) or \
                    (q.get("age") and bracket != q["age"]) or \
                    (q.get("min_score") and (case.opened.score or 0.0) < _float(q["min_score"])):
                continue
            rows.append((case, bracket))
        rows.sort(key=lambda r: (-(r[0].opened.score or 0.0), r[0].opened.at_utc,
                                 r[0].case_id))
        return self._page("queue.html", actor=actor, rows=rows, filters=dict(q),
                          brackets=AGE_BRACKETS, csrf=self.investigators.csrf(actor))

    async def next_case(self, request: web.Request) -> web.Response:
        actor = self._who(request)
        await self._form(request, actor)
        open_cases = sorted((c for c in await self._cases() if c.state.value == "OPEN"),
                            key=lambda c: (-(c.opened.score or 0.0), c.opened.at_utc,
                                           c.case_id))
        for case in open_cases:  # the first one this investigator wins
            result = await run_command(self.store, Claim(
                case.case_id, short_id("console-claim", case.case_id, case.version, actor),
                actor, case.version), at_utc=self.now_utc(), policy=self.policy)
            if not isinstance(result, Refusal):
                raise web.HTTPFound(f"/cases/{case.case_id}")
        raise web.HTTPFound("/?state=OPEN")

    async def case_page(self, request: web.Request) -> web.Response:
        actor = self._who(request)
        case = await read_case(self.store, request.match_info["case_id"])
        if case is None:
            return self._page("error.html", status=404, actor=actor,
                              message=f"no case {request.match_info['case_id']}")
        return await self._render_case(actor, case)

    async def _render_case(self, actor: str, case: Case, *, status: int = 200,
                           message: str | None = None) -> web.Response:
        labels = []
        if case.opened.run_id and case.opened.flow_id:
            view = await read_label_store(self.store)
            labels = view.timelines.timeline((case.opened.run_id, case.opened.flow_id))
        audit = None
        if case.opened.decision_id:
            found = await AuditIndex().find(self.store, case.opened.decision_id)
            audit = found[1][-1] if found else None
        evidence = await read_evidence(self.store, case.case_id)
        values = evidence.snapshot.values if evidence is not None else {}
        bundle = None
        if evidence is not None and evidence.bundle is not None:
            bundle = await self._bundle(evidence.bundle.digest.hex)
        events = [] if not (case.opened.run_id and case.opened.flow_id) else \
            await self.flows.of(self.store, case.opened.run_id, case.opened.flow_id)
        return self._page(
            "case.html", status=status, actor=actor, case=case, labels=labels, audit=audit,
            message=message, csrf=self.investigators.csrf(actor),
            age=age_bracket(case.opened.at_utc, self.now_utc()), evidence=evidence,
            top=top_features(bundle, evidence.reason_codes if evidence else (), values),
            usual=card_usual(values) if evidence is not None else [],
            entities=entity_context(values), flow_events=events)

    async def _bundle(self, digest_hex: str) -> ScorecardBundle | None:
        """The decision's bundle from the registry (None when it is not there: the page says
        which rules fired by reason code, without their conditions; a model bundle has no rules
        to show)."""
        try:
            bundle = await RegistryStore(self.store).get_bundle(digest_hex)
        except RegistryError:
            return None
        return bundle if isinstance(bundle, ScorecardBundle) else None

    async def act(self, request: web.Request) -> web.Response:
        actor = self._who(request)
        form = await self._form(request, actor)
        case = await read_case(self.store, request.match_info["case_id"])
        if case is None:
            return self._page("error.html", status=404, actor=actor,
                              message=f"no case {request.match_info['case_id']}")
        action = request.match_info["action"]
        version = _int(form.get("version"), case.version)
        text = str(form.get("text", "") or form.get("note", "") or form.get("reason", ""))
        command_id = str(form.get("command_id") or short_id(
            "console", case.case_id, version, actor, action, text, str(form.get("verdict"))))
        if action not in ACTIONS:
            return self._page("error.html", status=404, actor=actor,
                              message=f"no action {action}")
        current = await flow_label(self.store, case.opened.run_id, case.opened.flow_id) \
            if action == "resolve" else None
        try:
            command = command_of(action, case.case_id, command_id, actor, version, text=text,
                                 verdict=str(form.get("verdict", "")), current_label=current)
        except ValueError as exc:
            return await self._render_case(actor, case, status=400, message=str(exc))
        result = await run_command(self.store, command, at_utc=self.now_utc(),
                                   policy=self.policy)
        if isinstance(result, Refusal):
            now = await read_case(self.store, case.case_id) or case
            return await self._render_case(actor, now, status=result.status,
                                           message=f"{result.reason_code}: {result.message}")
        raise web.HTTPFound(f"/cases/{case.case_id}")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise web.HTTPBadRequest(text="400: min_score must be a number") from exc


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value)) if value not in (None, "") else default
    except ValueError as exc:
        raise web.HTTPBadRequest(text="400: version must be a whole number") from exc


def build_console(console: Console) -> web.Application:
    app = web.Application(client_max_size=_MAX_FORM_BYTES * 4)
    app.add_routes([
        web.get("/login", console.login_page), web.post("/login", console.login),
        web.post("/logout", console.logout), web.get("/", console.queue),
        web.post("/next", console.next_case), web.get("/cases/{case_id}", console.case_page),
        web.post("/cases/{case_id}/{action}", console.act)])
    add_label_api(app, console)
    return app
