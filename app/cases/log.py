"""The case log: every case event a create-only object, ``cases/<case_id>/events/<seq>.json``.

The object store is the truth (DESIGN: ``cases/``). Create-only writes are what make case
management exactly once and race-free without a lock: an event is written under its case's next
``seq``, so

- the same event again (an OPEN_CASE intent executed twice, a command retried) is the same
  bytes under the same key: a no-op;
- two commands racing for one ``seq`` cannot both land: the loser's write is refused
  (:class:`ObjectExistsError`), and it is answered from the case as it now is (stale: 409, or
  the repeat of a command that did land).
"""

from __future__ import annotations

import re
from typing import Any

from app.cases.model import Case, CasePolicy, Command, Refusal, fold, handle
from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.case import CaseEvent, CaseEventType
from app.rails.errors import ObjectExistsError
from app.rails.ids import short_id

__all__ = ["CASES_PREFIX", "append_events", "case_id_for_action", "event_key", "list_case_ids",
           "open_case", "opened_cases", "read_case", "run_command"]

CASES_PREFIX = "cases"
_EVENT = re.compile(r"^cases/(?P<case>[0-9a-f]{32})/events/(?P<seq>\d{6})\.json$")


def case_id_for_action(action_id: str) -> str:
    """The one case an OPEN_CASE intent opens: a function of its idempotency key."""
    return short_id("case", action_id)


def event_key(case_id: str, seq: int) -> str:
    return f"{CASES_PREFIX}/{case_id}/events/{seq:06d}.json"


def _bytes(event: CaseEvent) -> bytes:
    return canonical_dumps(event.model_dump(mode="json", exclude_none=True))


async def read_case(store: ObjectStore, case_id: str) -> Case | None:
    """The case folded from its events (None: no such case)."""
    keys = await store.list(f"{CASES_PREFIX}/{case_id}/events")
    events = [CaseEvent.model_validate(canonical_loads(await store.get(k)))
              for k in keys if _EVENT.match(k)]
    return fold(events) if events else None


async def list_case_ids(store: ObjectStore) -> list[str]:
    ids = {m["case"] for k in await store.list(CASES_PREFIX) if (m := _EVENT.match(k))}
    return sorted(ids)


async def opened_cases(store: ObjectStore) -> list[dict[str, Any]]:
    """Each case's opening as a side effect in the payment switch's log shape
    (``idempotency_key``, ``side_effect_ref``, ``run_id``): the conformance evidence reads
    case management as the executor of OPEN_CASE intents."""
    out: list[dict[str, Any]] = []
    for case_id in await list_case_ids(store):
        opened = CaseEvent.model_validate(canonical_loads(await store.get(event_key(case_id, 1))))
        if opened.action_id is not None:
            out.append({"idempotency_key": opened.action_id, "side_effect_ref": f"case:{case_id}",
                        "run_id": opened.run_id, "executor": "case_management"})
    return out


async def append_events(store: ObjectStore, events: list[CaseEvent]) -> None:
    """Write events under their keys (raises :class:`ObjectExistsError` when a ``seq`` is
    taken by another event)."""
    for event in events:
        await store.put(event_key(event.case_id, event.seq), _bytes(event))


async def open_case(store: ObjectStore, opened: CaseEvent) -> bool:
    """Write a case's OPENED event; True if this call opened it, False if it was open already.

    The case id is a function of the intent's idempotency key, so a held OPENED answers the
    key like a payment switch answers a held key: with the earlier side effect, whatever this
    request says (a trigger decided again under another posture may carry another score).
    """
    if opened.event_type is not CaseEventType.OPENED or opened.seq != 1:
        raise ValueError("open_case writes an OPENED event at seq 1")
    key = event_key(opened.case_id, 1)
    if await store.exists(key):
        return False
    try:
        await store.put(key, _bytes(opened))
    except ObjectExistsError:
        return False  # a concurrent first execution with other bytes won: the case is open
    return True


async def run_command(store: ObjectStore, command: Command, *, at_utc: str,
                      policy: CasePolicy) -> list[CaseEvent] | Refusal:
    """Check ``command`` against the case as stored and append what it makes; a writer that
    won the race first is seen by re-reading (the answer is then stale or idempotent)."""
    for _ in range(3):
        case = await read_case(store, command.case_id)
        result = handle(case, command, at_utc=at_utc, policy=policy)
        if isinstance(result, Refusal) or (case is not None and command.command_id
                                           in case.command_ids):
            return result
        try:
            await append_events(store, result)
            return result
        except ObjectExistsError:
            continue  # someone else took the seq: decide again against the new version
    return Refusal(409, "CASE_VERSION_STALE", f"case {command.case_id} changed while the "
                   "command was being applied: reload it")
