"""Where the bus is: bootstrap servers and the Faust broker URL for a profile's wiring.

The ``tansu`` wiring reads the address ``fp broker up`` recorded; its URL scheme ``tansu://``
selects the compatibility transport (``app.eb.tansu_compat``). Kafka wiring is used as given.
"""

from __future__ import annotations

from app.eb.embedded_broker import EmbeddedBroker
from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.rails.errors import BrokerError

__all__ = ["bootstrap_servers", "broker_epoch", "embedded_broker", "faust_broker_url"]


def embedded_broker(profile: Profile) -> EmbeddedBroker:
    """The embedded broker manager of a ``tansu`` profile."""
    wiring = profile.wiring.broker
    if not isinstance(wiring, TansuBroker):
        raise BrokerError(
            f"profile '{profile.name}' uses a {wiring.type} broker, not the embedded one: "
            "start and stop it with its own tooling (see docker-compose.yml)",
            reason_code="BROKER_NOT_EMBEDDED",
        )
    return EmbeddedBroker(profile.resolve(wiring.state_dir), host=wiring.host, port=wiring.port)


def bootstrap_servers(profile: Profile) -> list[str]:
    """host:port list for aiokafka clients.

    Raises:
        BrokerError: the ``tansu`` wiring has no running embedded broker.
    """
    wiring = profile.wiring.broker
    if isinstance(wiring, TansuBroker):
        state = embedded_broker(profile).running()
        if state is None:
            raise BrokerError(
                "the embedded broker is not running: start it with `fp broker up`",
                reason_code="BROKER_NOT_RUNNING",
            )
        return [state.bootstrap]
    return list(wiring.bootstrap_servers)


def broker_epoch(profile: Profile) -> str | None:
    """The running embedded broker's instance id (None for a Kafka wiring: its log is durable)."""
    if not isinstance(profile.wiring.broker, TansuBroker):
        return None
    state = embedded_broker(profile).running()
    if state is None:
        raise BrokerError("the embedded broker is not running: start it with `fp broker up`",
                          reason_code="BROKER_NOT_RUNNING")
    return state.epoch


def faust_broker_url(profile: Profile) -> str:
    """Faust ``broker`` setting: ``tansu://h:p`` for the embedded broker, else ``kafka://...``."""
    scheme = "tansu" if isinstance(profile.wiring.broker, TansuBroker) else "kafka"
    return ";".join(f"{scheme}://{server}" for server in bootstrap_servers(profile))
