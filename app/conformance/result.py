"""The verdict of one invariant check: what was examined, what broke, a sample to look up."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CheckResult", "Findings"]

_SAMPLE = 5


@dataclass
class Findings:
    """Collects violations while a check walks the evidence."""

    examined: int = 0
    violations: list[str] = field(default_factory=list)

    def expect(self, condition: bool, violation: str) -> None:
        if not condition:
            self.violations.append(violation)

    def result(self, name: str, invariant: str, *, skipped: str | None = None) -> CheckResult:
        return CheckResult(name=name, invariant=invariant, examined=self.examined,
                           violations=tuple(self.violations), skipped=skipped)


@dataclass(frozen=True)
class CheckResult:
    """``ok`` when nothing broke and the check had something to examine (or was skipped)."""

    name: str
    invariant: str
    examined: int
    violations: tuple[str, ...]
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def line(self) -> str:
        if self.skipped is not None:
            return f"SKIP {self.name}: {self.skipped}"
        head = f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {self.invariant} " \
               f"({self.examined:,} examined"
        if self.ok:
            return head + ")"
        sample = "; ".join(self.violations[:_SAMPLE])
        more = f" (+{len(self.violations) - _SAMPLE} more)" if len(self.violations) > _SAMPLE \
            else ""
        return f"{head}, {len(self.violations):,} violations) {sample}{more}"
