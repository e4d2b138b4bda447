"""What an agent module needs at registration: the profile and topic naming."""

from __future__ import annotations

from dataclasses import dataclass

from app.eb.topics import Topic, topic_name
from app.profiles.loader import Profile

__all__ = ["AgentContext"]


@dataclass(frozen=True)
class AgentContext:
    """Passed to every ``register(app, ctx)``; agents never read globals or the environment."""

    profile: Profile

    def topic(self, topic: Topic) -> str:
        """Broker-side name of a platform topic under this profile's prefix."""
        return topic_name(topic, self.profile.wiring.worker.topic_prefix)

    @property
    def partitions(self) -> int:
        return self.profile.wiring.worker.partitions
