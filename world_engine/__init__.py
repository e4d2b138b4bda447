"""fp synthetic bank world engine: a deterministic, vectorised generator of sealed world packs.

A black box to the platform, which reads only the packs it writes (docs/world_pack_format.md)
and its interface pack (``interface/interface_pack.v1.yaml``). Public surface:
:func:`generate_world`, :class:`WorldParams` (with :func:`parse_params`), :class:`WorldLocator`,
and the engine's errors. Module map: ``params`` (parameter pack and scales), ``entities``
(population and sharing), ``arrivals`` (when), ``amounts`` (how much), ``traffic`` (legitimate
flows and follow-ups), ``campaigns`` (fraud and abuse), ``labels`` (the bank's noisy view),
``truth`` (what really happened), ``tables`` (wire form), ``pack_writer`` (bytes on disk),
``generate`` (the order of work).
"""

from __future__ import annotations

from world_engine.errors import (
    WorldEngineError,
    WorldPackExistsError,
    WorldPackWriteError,
    WorldParamsError,
)
from world_engine.generate import Progress, generate_world
from world_engine.pack_writer import PACK_FORMAT, WorldLocator
from world_engine.params import SCALES, CampaignMix, WorldParams, parse_params

__all__ = [
    "PACK_FORMAT",
    "SCALES",
    "CampaignMix",
    "Progress",
    "WorldEngineError",
    "WorldLocator",
    "WorldPackExistsError",
    "WorldPackWriteError",
    "WorldParams",
    "WorldParamsError",
    "generate_world",
    "parse_params",
]
