"""Oracle Store access for the platform: read-only, by-ref views of sealed world packs."""

from app.oracle.interface_pack import GateSpec, InterfacePack, OutputSpec, Role
from app.oracle.locator import WorldLocator, parse_locator
from app.oracle.pack_reader import PackReader, open_pack

__all__ = [
    "GateSpec",
    "InterfacePack",
    "OutputSpec",
    "PackReader",
    "Role",
    "WorldLocator",
    "open_pack",
    "parse_locator",
]
