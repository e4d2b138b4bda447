"""``GET /v1/labels/{subject}?as_of=T&effective_at=E`` on the console: a subject's label
timelines as known then, the JSON of ``fp labels show --json`` (both built by
``app.labels.query``).

Read-only. It needs an investigator like every console page (``Authorization: Bearer <token>``
or the console's session cookie). Errors are the platform's JSON error, ``{"error": <code>,
"detail": <text>}``: 401 ``UNAUTHORIZED`` without an investigator, 400 ``QUERY_INVALID`` for a
malformed subject or time (or an unknown or repeated query parameter), 404 ``NOT_FOUND`` when no
label is known for the subject as of then.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from app.labels.known_flows import known_flows_of_runs
from app.labels.query import check_subject, document, flows_json, parse_time, runs_of
from app.labels.reader import read_label_store
from app.rails.canonical_json import canonical_dumps
from app.rails.errors import ContractError

if TYPE_CHECKING:  # server.py imports this module: no import cycle at run time
    from app.console.server import Console

__all__ = ["add_label_api"]

_PARAMS = frozenset({"as_of", "effective_at"})


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=canonical_dumps(value), status=status,
                        headers={"Cache-Control": "no-store", **(headers or {})},
                        content_type="application/json", charset="utf-8")


def _error(status: int, code: str, detail: str,
           headers: dict[str, str] | None = None) -> web.Response:
    return _json({"error": code, "detail": detail}, status, headers)


def add_label_api(app: web.Application, console: Console) -> None:
    """Add ``GET /v1/labels/{subject}`` to the console's application."""

    async def labels(request: web.Request) -> web.Response:
        if console.actor(request) is None:
            return _error(401, "UNAUTHORIZED",
                          "send Authorization: Bearer <investigator token> (or log in)",
                          {"WWW-Authenticate": "Bearer"})
        query = request.query
        repeated = sorted(n for n, count in Counter(query.keys()).items() if count > 1)
        unknown = sorted(set(query.keys()) - _PARAMS)
        subject = request.match_info["subject"]
        as_of, effective_at = query.get("as_of"), query.get("effective_at")
        try:
            if repeated or unknown:
                raise ContractError(f"query parameter(s) {'given twice' if repeated else 'unknown'}"
                                    f": {', '.join(repeated or unknown)[:200]} (allowed: as_of, "
                                    f"effective_at)")
            check_subject(subject)
            known_at_us = parse_time(as_of, "as_of")
            effective_at_us = parse_time(effective_at, "effective_at")
        except ContractError as exc:
            return _error(400, "QUERY_INVALID", str(exc))
        view = await read_label_store(console.store)
        known = await known_flows_of_runs(console.store, runs_of(view, subject))
        flows = flows_json(view, subject, known_at_us, effective_at_us, known)
        if not flows:
            return _error(404, "NOT_FOUND", f"no label known for {subject}"
                          + (f" as of {as_of}" if as_of else ""))
        return _json(document(subject, as_of, effective_at, flows))

    app.router.add_get("/v1/labels/{subject}", labels)
