"""The bank's population: customers, accounts, cards, devices, IPs and merchants (numpy arrays).

This module owns who exists in the world and how they share things, which is where graph signal
comes from:

- customers live in households; a household shares one residential IP and one or two devices
  (a family laptop or tablet), and most customers also have a personal phone;
- mobile-carrier IPs are CGNAT pools shared by thousands of customers of the same carrier; public
  Wi-Fi and VPN exit IPs are shared by anyone (some legitimate customers use VPNs);
- fraud rings use a few *farm* devices and datacenter/VPN IPs across many cards and customers,
  account takers use fresh *attacker* devices, mule rings are recently onboarded customers, and a
  few small merchants collude. These roles live in :class:`Roles`, which only the campaign
  generators and truth see: reference outputs carry nothing that names them.

Entities are index-addressed (customer 17 is row 17); ids are formatted only when writing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world_engine.catalog import COUNTRIES, MCCS, mcc_index
from world_engine.params import WorldParams
from world_engine.rng import stream

__all__ = ["DEVICE_SLOTS", "REGULAR_SLOTS", "Roles", "World", "build_world"]

DEVICE_SLOTS = 3
"""Devices a customer uses: personal phone (if any) plus up to two household devices."""
REGULAR_SLOTS = 8
"""Regular merchants per customer (most purchases go to one of them)."""

_DAY_US = 86_400_000_000
_YEAR_US = 365 * _DAY_US


@dataclass(frozen=True, slots=True)
class Roles:
    """Engine-only knowledge of who plays which part in the campaigns (never written)."""

    farm_devices: np.ndarray
    attacker_devices: np.ndarray
    fraud_ips: np.ndarray
    mule_customers: np.ndarray
    refund_abusers: np.ndarray
    colluding_merchants: np.ndarray


@dataclass(frozen=True, slots=True)
class World:
    """Every entity as parallel numpy arrays, plus the lookups the traffic generators need."""

    # customers
    household: np.ndarray
    home_country: np.ndarray
    segment: np.ndarray
    customer_risk: np.ndarray
    onboarded_us: np.ndarray
    home_ip: np.ndarray
    carrier: np.ndarray
    devices: np.ndarray  # (customers, DEVICE_SLOTS), -1 padded
    devices_per_customer: np.ndarray
    regulars: np.ndarray  # (customers, REGULAR_SLOTS)
    first_card: np.ndarray
    cards_per_customer: np.ndarray
    # accounts
    account_customer: np.ndarray
    account_type: np.ndarray  # 0 current, 1 credit
    opened_us: np.ndarray
    # cards
    card_account: np.ndarray
    card_customer: np.ndarray
    card_product: np.ndarray  # 0 debit, 1 credit
    card_network: np.ndarray  # 0 visa, 1 mastercard
    issued_us: np.ndarray
    card_cum_weight: np.ndarray
    # devices
    device_type: np.ndarray
    device_os: np.ndarray
    # ips
    ip_kind: np.ndarray
    ip_country: np.ndarray
    carrier_ip_start: np.ndarray
    carrier_ip_count: np.ndarray
    wifi_ips: np.ndarray
    vpn_ips: np.ndarray
    # merchants
    merchant_mcc: np.ndarray
    merchant_country: np.ndarray
    merchant_mode: np.ndarray  # index into MERCHANT_MODES
    merchant_online_share: np.ndarray
    merchant_risk: np.ndarray
    merchant_onboarded_us: np.ndarray
    merchant_cum_pop: np.ndarray
    roles: Roles

    @property
    def n_customers(self) -> int:
        return int(self.household.shape[0])

    @property
    def n_card_rows(self) -> int:
        return int(self.card_account.shape[0])

    def merchants_in(self, codes: tuple[str, ...], online_capable: bool = True) -> np.ndarray:
        """Merchant indices in the given MCCs (online or omni ones when ``online_capable``)."""
        wanted = np.isin(self.merchant_mcc, [mcc_index(c) for c in codes])
        if online_capable:
            wanted &= self.merchant_mode != 0
        return np.flatnonzero(wanted)


def _pick(rng: np.random.Generator, probs: list[float], n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(probs) / np.sum(probs), rng.random(n), side="right").astype(
        np.int8
    )


def _households(rng: np.random.Generator, n_customers: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = _pick(rng, [0.45, 0.30, 0.17, 0.08], n_customers).astype(np.int64) + 1
    n_households = int(np.searchsorted(np.cumsum(sizes), n_customers)) + 1
    household = np.repeat(np.arange(n_households, dtype=np.int32), sizes[:n_households])
    household = household[:n_customers]
    return household, np.bincount(household).astype(np.int64)


_Parts = dict[str, np.ndarray]


def _customers(params: WorldParams, seed: int) -> tuple[_Parts, np.ndarray, np.ndarray]:
    """Customers in households, plus the customer roles; returns (parts, activity, hh sizes)."""
    n_c, start_us = params.spec.customers, params.start_epoch_micros
    rng = stream(seed, "entities.customers")
    household, hh_size = _households(rng, n_c)
    home_country = _pick(rng, [0.96, 0.02, 0.004, 0.004, 0.004, 0.004, 0.004], hh_size.size)
    segment = _pick(rng, [0.62, 0.15, 0.11, 0.12], n_c)
    customer_risk = _pick(rng, [0.72, 0.23, 0.05], n_c)
    recent = rng.random(n_c) < 0.05
    onboarded_us = start_us - np.where(
        recent,
        rng.integers(1, 90, n_c) * _DAY_US,
        (rng.random(n_c) * 15 * _YEAR_US).astype(np.int64),
    )
    activity = rng.gamma(2.0, 0.5, n_c)

    # Mules look recently onboarded and a little riskier to KYC, and spend little themselves.
    rng_roles = stream(seed, "entities.roles")
    shuffled = rng_roles.permutation(n_c)
    n_mules, n_abusers = max(12, n_c // 250), max(10, n_c // 300)
    mule_customers = np.sort(shuffled[:n_mules])
    refund_abusers = np.sort(shuffled[n_mules : n_mules + n_abusers])
    onboarded_us[mule_customers] = start_us - rng_roles.integers(3, 120, n_mules) * _DAY_US
    customer_risk[mule_customers] = _pick(rng_roles, [0.5, 0.35, 0.15], n_mules)
    activity[mule_customers] *= 0.4
    parts = {
        "household": household,
        "home_country": home_country[household],
        "segment": segment,
        "customer_risk": customer_risk,
        "onboarded_us": onboarded_us,
        "mule_customers": mule_customers,
        "refund_abusers": refund_abusers,
    }
    return parts, activity, hh_size


def _devices(seed: int, household: np.ndarray, hh_size: np.ndarray) -> _Parts:
    """Personal phones, household shared devices, then farm and attacker devices."""
    rng = stream(seed, "entities.devices")
    n_c, n_h = household.size, hh_size.size
    member = np.arange(n_c) - np.concatenate(([0], np.cumsum(hh_size)[:-1]))[household]
    has_phone = rng.random(n_c) < 0.85
    n_phones = int(has_phone.sum())
    phone_id = np.full(n_c, -1, dtype=np.int64)
    phone_id[has_phone] = np.arange(n_phones)
    hh_devs = 1 + ((hh_size > 1) & (rng.random(n_h) < 0.5))
    hh_dev_start = n_phones + np.concatenate(([0], np.cumsum(hh_devs)[:-1]))
    n_legit = n_phones + int(hh_devs.sum())
    n_farm, n_attack = max(10, n_c // 500), max(20, n_c // 150)
    n_d = n_legit + n_farm + n_attack
    device_type = np.zeros(n_d, dtype=np.int8)
    device_os = _pick(rng, [0.55, 0.45], n_d)  # phones: ios / android
    shared = np.arange(n_phones, n_legit)
    device_type[shared] = np.where(rng.random(shared.size) < 0.6, 1, 2)
    desk_os = _pick(rng, [0.0, 0.0, 0.65, 0.30, 0.05], shared.size)
    tab_os = np.where(rng.random(shared.size) < 0.7, 0, 1).astype(np.int8)
    device_os[shared] = np.where(device_type[shared] == 1, desk_os, tab_os)
    rogue = np.arange(n_legit, n_d)
    device_type[rogue] = np.where(rng.random(rogue.size) < 0.5, 1, 0)
    rogue_desk_os = _pick(rng, [0, 0, 0.6, 0, 0.4], rogue.size)
    device_os[rogue] = np.where(device_type[rogue] == 1, rogue_desk_os, 1)

    devices = np.full((n_c, DEVICE_SLOTS), -1, dtype=np.int64)
    devices[:, 0] = phone_id
    devices[:, 1] = hh_dev_start[household] + member % hh_devs[household]
    second = hh_dev_start[household] + (member + 1) % 2
    devices[:, 2] = np.where(hh_devs[household] > 1, second, -1)
    order = np.argsort(devices < 0, axis=1, kind="stable")  # compact: valid slots first
    devices = np.take_along_axis(devices, order, axis=1)
    return {
        "devices": devices,
        "devices_per_customer": (devices >= 0).sum(axis=1).astype(np.int8),
        "device_type": device_type,
        "device_os": device_os,
        "farm_devices": np.arange(n_legit, n_legit + n_farm),
        "attacker_devices": np.arange(n_legit + n_farm, n_d),
    }


def _ips(seed: int, household: np.ndarray, home_country: np.ndarray) -> _Parts:
    """Residential per household, carrier CGNAT pools, public Wi-Fi, VPN exits, datacenters."""
    rng = stream(seed, "entities.ips")
    n_c, n_h = household.size, int(household.max()) + 1
    carrier_share = np.array([0.40, 0.35, 0.25])
    carrier = _pick(rng, list(carrier_share), n_c)
    carrier_ip_count = np.maximum(2, (carrier_share * max(8, n_c // 120)).astype(np.int64))
    carrier_ip_start = n_h + np.concatenate(([0], np.cumsum(carrier_ip_count)[:-1]))
    n_wifi, n_vpn, n_dc = max(10, n_c // 200), max(6, n_c // 1500), max(12, n_c // 400)
    first_wifi = n_h + int(carrier_ip_count.sum())
    wifi_ips = np.arange(first_wifi, first_wifi + n_wifi)
    vpn_ips = np.arange(wifi_ips[-1] + 1, wifi_ips[-1] + 1 + n_vpn)
    dc_ips = np.arange(vpn_ips[-1] + 1, vpn_ips[-1] + 1 + n_dc)
    ip_kind = np.zeros(int(dc_ips[-1]) + 1, dtype=np.int8)
    ip_kind[n_h:first_wifi] = 1
    ip_kind[wifi_ips], ip_kind[vpn_ips], ip_kind[dc_ips] = 2, 3, 4
    ip_country = np.zeros(ip_kind.size, dtype=np.int8)
    ip_country[:n_h] = home_country[np.searchsorted(household, np.arange(n_h))]
    gb, nl, us, de = (COUNTRIES.index(c) for c in ("GB", "NL", "US", "DE"))
    ip_country[vpn_ips] = np.array([gb, nl, us, de], dtype=np.int8)[rng.integers(0, 4, n_vpn)]
    ip_country[dc_ips] = np.array([us, nl, de], dtype=np.int8)[rng.integers(0, 3, n_dc)]
    return {
        "home_ip": household.astype(np.int64),  # residential IP i belongs to household i
        "carrier": carrier,
        "ip_kind": ip_kind,
        "ip_country": ip_country,
        "carrier_ip_start": carrier_ip_start,
        "carrier_ip_count": carrier_ip_count,
        "wifi_ips": wifi_ips,
        "vpn_ips": vpn_ips,
        "fraud_ips": np.concatenate((dc_ips, vpn_ips[: max(2, n_vpn // 2)])),
    }


def _accounts_and_cards(
    params: WorldParams, seed: int, customers: _Parts, activity: np.ndarray
) -> _Parts:
    """Customer order; a current account each, a credit-card account for some."""
    rng = stream(seed, "entities.accounts")
    start_us, segment = params.start_epoch_micros, customers["segment"]
    n_c = segment.size
    credit = rng.random(n_c) < np.where(segment == 1, 0.6, 0.3)
    account_customer = np.sort(np.concatenate((np.arange(n_c), np.flatnonzero(credit))))
    account_type = np.zeros(account_customer.size, dtype=np.int8)
    account_type[1:] = (account_customer[1:] == account_customer[:-1]).astype(np.int8)
    n_acc = account_customer.size
    opened_us = customers["onboarded_us"][account_customer] + np.where(
        account_type == 1, (rng.random(n_acc) * 3 * _YEAR_US).astype(np.int64), 0
    )
    opened_us = np.minimum(opened_us, start_us - _DAY_US)
    cards_per_acc = 1 + ((account_type == 0) & (rng.random(n_acc) < 0.08))
    card_account = np.repeat(np.arange(n_acc), cards_per_acc)
    n_k = card_account.size
    card_customer = account_customer[card_account]
    card_product = account_type[card_account]
    issued_us = np.maximum(
        opened_us[card_account], start_us - (rng.random(n_k) * 3 * _YEAR_US).astype(np.int64)
    )
    card_weight = activity[card_customer] * rng.gamma(1.5, 1 / 1.5, n_k)
    card_weight *= np.where(card_product == 1, 0.8, 1.0)
    return {
        "account_customer": account_customer,
        "account_type": account_type,
        "opened_us": opened_us,
        "card_account": card_account,
        "card_customer": card_customer,
        "card_product": card_product,
        "card_network": np.where(rng.random(n_k) < 0.65, 0, 1).astype(np.int8),
        "issued_us": np.minimum(issued_us, start_us - _DAY_US),
        "card_cum_weight": np.cumsum(card_weight) / np.sum(card_weight),
        "first_card": np.searchsorted(card_customer, np.arange(n_c)),
        "cards_per_customer": np.bincount(card_customer, minlength=n_c),
    }


def _merchants(params: WorldParams, seed: int, n_customers: int) -> _Parts:
    """At least two merchants per category, popularity lognormal within category."""
    rng = stream(seed, "entities.merchants")
    n_m, start_us = params.spec.merchants, params.start_epoch_micros
    weights = np.array([m.traffic_weight for m in MCCS])
    n_mcc = len(MCCS)
    share = weights**0.7 / np.sum(weights**0.7)
    drawn = np.searchsorted(np.cumsum(share), rng.random(n_m - 2 * n_mcc))
    merchant_mcc = np.concatenate((np.tile(np.arange(n_mcc), 2), drawn)).astype(np.int16)
    pop = rng.lognormal(0.0, 1.0, n_m)
    per_mcc = np.maximum(np.bincount(merchant_mcc, weights=pop, minlength=n_mcc), 1e-12)
    pop *= (weights / per_mcc)[merchant_mcc]  # each category gets its traffic share
    online = np.array([m.online_share for m in MCCS])[merchant_mcc]
    mode = np.where(online >= 0.95, 1, np.where(online <= 0.02, 0, 2)).astype(np.int8)
    online_share = np.where(
        mode == 2, np.clip(online + rng.normal(0, 0.08, n_m), 0.02, 0.98), online
    )
    country = np.where(
        mode == 0,
        _pick(rng, [0.95, 0.02, 0.01, 0.0, 0.0, 0.02, 0.0], n_m),
        _pick(rng, [0.75, 0.05, 0.03, 0.04, 0.03, 0.0, 0.10], n_m),
    ).astype(np.int8)
    prior = np.array([m.risk_tier for m in MCCS], dtype=np.int8)[merchant_mcc]
    noise = rng.random(n_m)
    risk = np.clip(prior + (noise < 0.08) - (noise > 0.93), 0, 2).astype(np.int8)
    onboarded_us = start_us - (rng.random(n_m) * 12 * _YEAR_US).astype(np.int64) - _DAY_US
    cum_pop = np.cumsum(pop) / np.sum(pop)
    regulars = np.searchsorted(cum_pop, rng.random((n_customers, REGULAR_SLOTS)), side="right")

    # Colluders: the less popular half of the card-present resale merchants.
    resale = np.isin(merchant_mcc, [mcc_index(c) for c in ("5999", "5732", "5944", "5947")])
    candidates = np.flatnonzero(resale & (mode != 1))
    candidates = candidates[np.argsort(pop[candidates], kind="stable")]
    candidates = candidates[: max(3, candidates.size // 2)]
    colluding = rng.choice(candidates, min(candidates.size, max(3, n_m // 400)), replace=False)
    return {
        "merchant_mcc": merchant_mcc,
        "merchant_country": country,
        "merchant_mode": mode,
        "merchant_online_share": online_share,
        "merchant_risk": risk,
        "merchant_onboarded_us": onboarded_us,
        "merchant_cum_pop": cum_pop,
        "regulars": np.minimum(regulars, n_m - 1),
        "colluding_merchants": np.sort(colluding),
    }


_ROLE_FIELDS = (
    "farm_devices",
    "attacker_devices",
    "fraud_ips",
    "mule_customers",
    "refund_abusers",
    "colluding_merchants",
)


def build_world(params: WorldParams, seed: int) -> World:
    """Build the population for ``params.scale`` under ``seed`` (deterministic).

    Each entity group draws from its own named stream, so changing one never shifts another.
    """
    customers, activity, hh_size = _customers(params, seed)
    parts: _Parts = {
        **customers,
        **_devices(seed, customers["household"], hh_size),
        **_ips(seed, customers["household"], customers["home_country"]),
        **_accounts_and_cards(params, seed, customers, activity),
        **_merchants(params, seed, params.spec.customers),
    }
    roles = Roles(**{name: parts.pop(name) for name in _ROLE_FIELDS})
    return World(**parts, roles=roles)
