"""The world engine's errors: bad parameters, a pack that already exists, a failed write.

    FraudPlatformError (app.rails.errors)
    └── WorldEngineError              base of every deliberate world-engine error
        ├── WorldParamsError          generation parameters are invalid (unknown scale, days <= 0…)
        ├── WorldPackExistsError      the locator already holds a pack (sealed or not): write-once
        ├── WorldPackWriteError       the pack could not be written (unsupported root, I/O failure)
        └── WorldPackReadError        a locator holds no readable sealed pack

Every error names what went wrong and what an operator should do; nothing half-written is left at
the locator when one is raised (the writer works in a temporary folder and renames at the end).
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = [
    "WorldEngineError",
    "WorldPackExistsError",
    "WorldPackReadError",
    "WorldPackWriteError",
    "WorldParamsError",
]


class WorldEngineError(FraudPlatformError):
    """Base of world-engine errors; carries a stable ``reason_code``."""

    reason_code = "WORLD_ENGINE_ERROR"


class WorldParamsError(WorldEngineError):
    """Generation parameters failed validation; ``field`` is the dotted path of the bad one."""

    reason_code = "WORLD_PARAMS_INVALID"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        where = f" '{field}'" if field else ""
        super().__init__(f"world parameter{where}: {problem}")


class WorldPackExistsError(WorldEngineError):
    """The target locator already holds a pack; packs are write-once, so nothing was written."""

    reason_code = "WORLD_PACK_EXISTS"

    def __init__(self, locator: str, sealed: bool) -> None:
        self.locator = locator
        self.sealed = sealed
        state = "a sealed pack" if sealed else "an unsealed folder (a foreign or broken write)"
        super().__init__(
            f"{locator} already holds {state}; packs are write-once: use another seed, "
            "parameters, scenario or oracle root"
            + ("" if sealed else ", or remove the folder after checking what it is")
        )


class WorldPackWriteError(WorldEngineError):
    """The pack could not be written; the temporary folder was removed."""

    reason_code = "WORLD_PACK_WRITE_FAILED"


class WorldPackReadError(WorldEngineError):
    """No readable sealed pack at ``locator``: missing, unsealed, or its seal does not match."""

    reason_code = "WORLD_PACK_UNREADABLE"

    def __init__(self, locator: str, problem: str, *, reason_code: str | None = None) -> None:
        self.locator = locator
        self.problem = problem
        super().__init__(f"world pack {locator}: {problem}", reason_code=reason_code)
