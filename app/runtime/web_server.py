"""The worker's HTTP server settings, through faust's ``web_application_options`` setting.

faust's aiohttp driver builds ``aiohttp.web.Application(**web_application_options)``, and aiohttp
hands an Application's ``handler_args`` to every connection's request handler: that is the
supported seam for server limits, no driver subclass needed. What it sets and why (issue #11):

- ``keepalive_timeout`` = ``wiring.worker.http_idle_timeout_s`` (15 s by default, aiohttp's own
  default is 3,630 s): aiohttp arms this timer when a connection opens and after each response,
  and closes the connection if no complete request has arrived when it fires. It bounds idle
  keep-alive connections *and* request headers that trickle in (slow-loris), since a request
  only counts once its headers are complete.
- ``lingering_time`` = 2 s (aiohttp: 10 s): after answering a request whose body it did not read
  (a 401, 413 or 503 refused before the body), the server reads and discards what the client
  is still sending for at most this long, so the client can read the answer before the
  connection closes, and then closes it.

Request bodies are not bounded here: ``POST /v1/ingest`` reads its body itself, after
authenticating, with the policy's limit and ``http_body_timeout_s`` (app/agents/ig_http.py);
``client_max_size`` (aiohttp's 1 MiB) only applies to views that call ``request.read()``.
"""

from __future__ import annotations

from typing import Any

from app.profiles.loader import Profile

__all__ = ["LINGERING_S", "web_application_options"]

LINGERING_S = 2.0
"""Seconds an unread request body is drained after the answer before the connection closes."""


def web_application_options(profile: Profile) -> dict[str, Any]:
    """``faust.App(web_application_options=...)`` for a worker of ``profile``."""
    return {"handler_args": {"keepalive_timeout": profile.wiring.worker.http_idle_timeout_s,
                             "lingering_time": LINGERING_S}}
