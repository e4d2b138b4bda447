"""The project's error hierarchy: one base, structured fields, self-built messages.

    FraudPlatformError                 base of every error the platform raises on purpose
    ├── ProfileError                   a profile file is missing, malformed or invalid (dotted path)
    ├── ObjectStoreError               object store failures
    │   ├── InvalidObjectKeyError      a key with '..', an absolute path, or bad characters
    │   ├── ObjectExistsError          create-only: different bytes for an existing key
    │   ├── ObjectNotFoundError        no object at that key
    │   ├── ObjectTooLargeError        over the store's size limit
    │   └── DigestMismatchError        bytes read do not match the expected digest
    ├── BrokerError                    the embedded broker cannot start, stop or be reached
    └── ContractError                  a value violates a rail (canonical JSON, ids, time format)

Infrastructure errors fail loudly (the worker restarts); bad *input* is never an exception at an
agent boundary: it becomes a quarantine record with a reason code.
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "ContractError",
    "DigestMismatchError",
    "FraudPlatformError",
    "InvalidObjectKeyError",
    "ObjectExistsError",
    "ObjectNotFoundError",
    "ObjectStoreError",
    "ObjectTooLargeError",
    "ProfileError",
]


class FraudPlatformError(Exception):
    """Base of every deliberate platform error; carries a stable ``reason_code``."""

    reason_code: str = "ERROR"

    def __init__(self, message: str, *, reason_code: str | None = None) -> None:
        if reason_code is not None:
            self.reason_code = reason_code
        super().__init__(message)


class ProfileError(FraudPlatformError):
    """A profile cannot be loaded; ``path`` is the dotted path of the bad field."""

    reason_code = "PROFILE_INVALID"

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = f" at '{path}'" if path else ""
        super().__init__(f"profile {source}{where}: {problem}")


class ObjectStoreError(FraudPlatformError):
    """Base of object-store failures; ``key`` names the object concerned."""

    reason_code = "OBJECT_STORE_ERROR"

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"object '{key}': {problem}")


class InvalidObjectKeyError(ObjectStoreError):
    reason_code = "OBJECT_KEY_INVALID"


class ObjectExistsError(ObjectStoreError):
    reason_code = "OBJECT_EXISTS_DIFFERENT"


class ObjectNotFoundError(ObjectStoreError):
    reason_code = "OBJECT_NOT_FOUND"


class ObjectTooLargeError(ObjectStoreError):
    reason_code = "OBJECT_TOO_LARGE"


class DigestMismatchError(ObjectStoreError):
    reason_code = "DIGEST_MISMATCH"


class BrokerError(FraudPlatformError):
    """The embedded broker could not be started, reached or stopped."""

    reason_code = "BROKER_ERROR"


class ContractError(FraudPlatformError):
    """A value violates a rail (canonical JSON, ids, time format)."""

    reason_code = "CONTRACT_VIOLATION"
