"""``policy.decision.triggers``: which event types trigger a decision is validated policy."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.df.policy import DecisionPolicy
from app.profiles.loader import load_profile

_BASE: dict[str, Any] = load_profile("local").policy.decision.model_dump(mode="json")


def _policy(**changes: Any) -> DecisionPolicy:
    return DecisionPolicy.model_validate(_BASE | changes)


def test_the_default_trigger_is_the_authorisation() -> None:
    body = {k: v for k, v in _BASE.items() if k != "triggers"}
    assert DecisionPolicy.model_validate(body).triggers == ("auth_request",)


def test_every_profile_decides_authorisations_and_imported_transactions() -> None:
    for name in ("local", "dev", "prod"):
        assert load_profile(name).policy.decision.triggers == ("auth_request",
                                                               "card_transaction")


@pytest.mark.parametrize("triggers", [
    [],                                  # nothing would ever be decided
    ["auth_request", "auth_request"],    # repeated
    ["Auth_Request"],                    # not an envelope event type
    ["card transaction"],
    ["label_event"],                     # a label feed is never a trigger
    "auth_request",                      # a string, not a list
])
def test_bad_triggers_are_refused(triggers: Any) -> None:
    with pytest.raises(ValidationError):
        _policy(triggers=triggers)


def test_an_imported_event_type_may_trigger() -> None:
    assert _policy(triggers=["card_transaction"]).triggers == ("card_transaction",)
