"""Arrow tables of every output, built from the engine's integer-coded numpy columns.

This module owns the wire form of rows: entity ids (``card_00000042``: a type prefix and a
zero-padded index, so string order is index order), flow-derived ids (``flow_<12 digits>``,
``clr_…``, ``rev_…``, ``rfd_…``, ``lbl_<12 digits>_<kind>``), vocabulary strings, and
``timestamp[us, tz=UTC]`` columns. It formats strings with Arrow compute kernels (no Python
loops), and it never adds a truth column to a streamed output: only :func:`flow_truth_table`
reads the batch's truth codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from world_engine import catalog as cat
from world_engine.entities import World
from world_engine.flows import FlowBatch
from world_engine.labels import LABEL_TYPES, LABEL_VALUES, LabelEvents
from world_engine.traffic import REVERSAL_REASONS, FollowUps
from world_engine.truth import LEGIT, SUBTYPES, TRUTH_LABELS

__all__ = [
    "ENTITY_ID_WIDTH",
    "FLOW_ID_WIDTH",
    "EntityIds",
    "auth_request_table",
    "clearing_table",
    "flow_truth_table",
    "format_ids",
    "label_event_table",
    "reference_tables",
    "refund_table",
    "reversal_table",
]

ENTITY_ID_WIDTH = 8
FLOW_ID_WIDTH = 12
_TS = pa.timestamp("us", tz="UTC")


def format_ids(
    prefix: str, numbers: np.ndarray, width: int, suffix: pa.Array | None = None
) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` (+ ``"_"`` + ``suffix``) as a string array."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    if suffix is None:
        return pc.binary_join_element_wise(prefix, digits, "")
    return pc.binary_join_element_wise(prefix, digits, "_", suffix, "")


def _vocab(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(codes))


def _ts(micros: np.ndarray) -> pa.Array:
    return pa.array(micros.astype(np.int64), type=_TS)


def _take(ids: pa.Array, index: np.ndarray) -> pa.Array:
    """ids[index], null where index < 0."""
    null = index < 0
    return ids.take(pa.array(np.where(null, 0, index), mask=null if null.any() else None))


_MCC_CODES = tuple(m.code for m in cat.MCCS)
_MCC_NAMES = tuple(m.description for m in cat.MCCS)


@dataclass(frozen=True, slots=True)
class EntityIds:
    """The id strings of every entity, built once per world and taken by index."""

    customer: pa.Array
    household: pa.Array
    account: pa.Array
    card: pa.Array
    device: pa.Array
    ip: pa.Array
    merchant: pa.Array

    @classmethod
    def of(cls, world: World) -> EntityIds:
        def ids(prefix: str, n: int) -> pa.Array:
            return format_ids(prefix, np.arange(n), ENTITY_ID_WIDTH)

        return cls(
            customer=ids("cust_", world.n_customers),
            household=ids("hh_", int(world.household.max()) + 1),
            account=ids("acct_", world.account_customer.size),
            card=ids("card_", world.n_card_rows),
            device=ids("dev_", world.device_type.size),
            ip=ids("ip_", world.ip_kind.size),
            merchant=ids("merch_", world.merchant_mcc.size),
        )


def reference_tables(world: World, ids: EntityIds) -> dict[str, pa.Table]:
    """The six reference catalogues (a snapshot as of the world's first day)."""
    w = world
    return {
        "customers": pa.table(
            {
                "customer_id": ids.customer,
                "household_id": ids.household.take(pa.array(w.household)),
                "home_country": _vocab(cat.COUNTRIES, w.home_country),
                "segment": _vocab(cat.SEGMENTS, w.segment),
                "risk_tier": _vocab(cat.RISK_TIERS, w.customer_risk),
                "onboarded_ts_utc": _ts(w.onboarded_us),
            }
        ),
        "accounts": pa.table(
            {
                "account_id": ids.account,
                "customer_id": ids.customer.take(pa.array(w.account_customer)),
                "account_type": _vocab(("current", "credit_card"), w.account_type),
                "opened_ts_utc": _ts(w.opened_us),
            }
        ),
        "cards": pa.table(
            {
                "card_id": ids.card,
                "account_id": ids.account.take(pa.array(w.card_account)),
                "customer_id": ids.customer.take(pa.array(w.card_customer)),
                "product": _vocab(("debit", "credit"), w.card_product),
                "network": _vocab(("visa", "mastercard"), w.card_network),
                "issued_ts_utc": _ts(w.issued_us),
            }
        ),
        "devices": pa.table(
            {
                "device_id": ids.device,
                "device_type": _vocab(cat.DEVICE_TYPES, w.device_type),
                "os": _vocab(cat.OPERATING_SYSTEMS, w.device_os),
            }
        ),
        "ips": pa.table(
            {
                "ip_id": ids.ip,
                "ip_kind": _vocab(cat.IP_KINDS, w.ip_kind),
                "ip_country": _vocab(cat.COUNTRIES, w.ip_country),
            }
        ),
        "merchants": pa.table(
            {
                "merchant_id": ids.merchant,
                "mcc": _vocab(_MCC_CODES, w.merchant_mcc),
                "mcc_description": _vocab(_MCC_NAMES, w.merchant_mcc),
                "merchant_country": _vocab(cat.COUNTRIES, w.merchant_country),
                "channel_mode": _vocab(cat.MERCHANT_MODES, w.merchant_mode),
                "risk_tier": _vocab(cat.RISK_TIERS, w.merchant_risk),
                "onboarded_ts_utc": _ts(w.merchant_onboarded_us),
            }
        ),
    }


def auth_request_table(batch: FlowBatch, flow_no: np.ndarray, ids: EntityIds) -> pa.Table:
    """``auth_request`` rows of a batch (business columns only)."""
    return pa.table(
        {
            "flow_id": format_ids("flow_", flow_no, FLOW_ID_WIDTH),
            "ts_utc": _ts(batch.ts_us),
            "card_id": ids.card.take(pa.array(batch.card)),
            "account_id": ids.account.take(pa.array(batch.account)),
            "customer_id": ids.customer.take(pa.array(batch.customer)),
            "device_id": _take(ids.device, batch.device),
            "ip_id": _take(ids.ip, batch.ip),
            "merchant_id": ids.merchant.take(pa.array(batch.merchant)),
            "mcc": _vocab(_MCC_CODES, batch.mcc),
            "merchant_country": _vocab(cat.COUNTRIES, batch.merchant_country),
            "channel": _vocab(cat.CHANNELS, batch.channel),
            "entry_mode": _vocab(cat.ENTRY_MODES, batch.entry_mode),
            "amount_minor": pa.array(batch.amount_minor, type=pa.int64()),
            "currency": _vocab(cat.CURRENCIES, batch.currency),
        }
    )


def _money_follow_up(
    prefix: str,
    id_column: str,
    batch: FlowBatch,
    rows: np.ndarray,
    ts_us: np.ndarray,
    amount_minor: np.ndarray,
    flow_no: np.ndarray,
    ids: EntityIds,
) -> dict[str, pa.Array]:
    number = flow_no[rows]
    return {
        id_column: format_ids(prefix, number, FLOW_ID_WIDTH),
        "flow_id": format_ids("flow_", number, FLOW_ID_WIDTH),
        "ts_utc": _ts(ts_us),
        "card_id": ids.card.take(pa.array(batch.card[rows])),
        "account_id": ids.account.take(pa.array(batch.account[rows])),
        "merchant_id": ids.merchant.take(pa.array(batch.merchant[rows])),
        "amount_minor": pa.array(amount_minor, type=pa.int64()),
        "currency": _vocab(cat.CURRENCIES, batch.currency[rows]),
    }


def clearing_table(
    batch: FlowBatch, fu: FollowUps, flow_no: np.ndarray, ids: EntityIds
) -> pa.Table:
    """``clearing`` rows: one per approved, unreversed flow."""
    rows = fu.clearing_rows
    return pa.table(
        _money_follow_up(
            "clr_",
            "clearing_id",
            batch,
            rows,
            fu.clearing_ts_us,
            batch.clear_amount_minor[rows],
            flow_no,
            ids,
        )
    )


def refund_table(batch: FlowBatch, fu: FollowUps, flow_no: np.ndarray, ids: EntityIds) -> pa.Table:
    """``refund`` rows: at most one per cleared flow."""
    return pa.table(
        _money_follow_up(
            "rfd_",
            "refund_id",
            batch,
            fu.refund_rows,
            fu.refund_ts_us,
            fu.refund_amount_minor,
            flow_no,
            ids,
        )
    )


def reversal_table(
    batch: FlowBatch, fu: FollowUps, flow_no: np.ndarray, ids: EntityIds
) -> pa.Table:
    """``reversal`` rows: full reversals of approved flows (which then never clear)."""
    rows = fu.reversal_rows
    columns = _money_follow_up(
        "rev_",
        "reversal_id",
        batch,
        rows,
        fu.reversal_ts_us,
        batch.amount_minor[rows],
        flow_no,
        ids,
    )
    columns["reason"] = _vocab(REVERSAL_REASONS, fu.reversal_reason)
    return pa.table(columns)


def label_event_table(
    batch: FlowBatch, labels: LabelEvents, flow_no: np.ndarray, ids: EntityIds
) -> pa.Table:
    """``label_event`` rows: the bank's label view (no truth columns)."""
    number = flow_no[labels.rows]
    kind = pc.cast(pa.array(labels.kind, type=pa.int8()), pa.string())
    return pa.table(
        {
            "label_event_id": format_ids("lbl_", number, FLOW_ID_WIDTH, suffix=kind),
            "flow_id": format_ids("flow_", number, FLOW_ID_WIDTH),
            "card_id": ids.card.take(pa.array(batch.card[labels.rows])),
            "account_id": ids.account.take(pa.array(batch.account[labels.rows])),
            "label_type": _vocab(LABEL_TYPES, labels.label_type),
            "label_value": _vocab(LABEL_VALUES, labels.label_value),
            "effective_ts_utc": _ts(labels.effective_us),
            "observed_ts_utc": _ts(labels.observed_us),
        }
    )


def flow_truth_table(
    batch: FlowBatch, fu: FollowUps, flow_no: np.ndarray, campaign_ids: pa.Array
) -> pa.Table:
    """``flow_truth`` rows: what each flow really was (truth role only)."""
    return pa.table(
        {
            "flow_id": format_ids("flow_", flow_no, FLOW_ID_WIDTH),
            "ts_utc": _ts(batch.ts_us),
            "is_fraud_or_abuse": pa.array(batch.label != LEGIT),
            "label": _vocab(TRUTH_LABELS, batch.label),
            "subtype": _vocab(SUBTYPES, batch.subtype),
            "campaign_id": _take(campaign_ids, batch.campaign.astype(np.int64)),
            "issuer_approved": pa.array(fu.approved),
        }
    )
