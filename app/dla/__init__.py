"""DLA, the decision log and audit: one append-only audit record per decision chain.

``chains`` is the pure fold (rtdl records in offset order -> audit records and anomalies),
``segments`` and ``index`` the create-only objects it is written to, ``partition_log`` one rtdl
partition's buffer, flush and restore (DLA owns its offsets), ``lookup`` the read side (by
decision, event or action id; the whole log), ``chain_view`` the text ``fp audit show`` prints.
The agent (``app.agents.audit_log``) only moves records and keeps time.
"""

from __future__ import annotations

from app.dla.anomaly import AuditAnomaly, audit_anomaly
from app.dla.chain_view import render_chain
from app.dla.chains import (
    ChainFold,
    Closed,
    FoldStep,
    IndexKeys,
    OpenChain,
    audit_line_of,
    audit_record_of,
)
from app.dla.errors import AuditRestoreError, MalformedAuditIdError, SegmentUnreadableError
from app.dla.index import IdKind, SegmentIndex, encode_index, index_bytes, index_of, index_of_keys
from app.dla.lookup import (
    ID_KINDS,
    AuditIndex,
    Lookup,
    is_hex64,
    latest_first,
    read_audit_anomalies,
    read_audit_records,
)
from app.dla.partition_log import AuditPartition, Flushed, LogRecord, ReadRange
from app.dla.segments import (
    INDEX_PREFIX,
    SEGMENTS_PREFIX,
    OpenChainRef,
    Segment,
    SegmentHeader,
    decode_segment,
    encode_segment,
    entry_line,
    index_key_of,
    list_segments,
    segment_bytes,
    segment_key,
)

__all__ = [
    "ID_KINDS",
    "INDEX_PREFIX",
    "SEGMENTS_PREFIX",
    "AuditAnomaly",
    "AuditIndex",
    "AuditPartition",
    "AuditRestoreError",
    "ChainFold",
    "Closed",
    "Flushed",
    "FoldStep",
    "IdKind",
    "IndexKeys",
    "LogRecord",
    "Lookup",
    "MalformedAuditIdError",
    "OpenChain",
    "OpenChainRef",
    "ReadRange",
    "Segment",
    "SegmentHeader",
    "SegmentIndex",
    "SegmentUnreadableError",
    "audit_anomaly",
    "audit_line_of",
    "audit_record_of",
    "decode_segment",
    "encode_index",
    "encode_segment",
    "entry_line",
    "index_bytes",
    "index_key_of",
    "index_of",
    "index_of_keys",
    "is_hex64",
    "latest_first",
    "list_segments",
    "read_audit_anomalies",
    "read_audit_records",
    "render_chain",
    "segment_bytes",
    "segment_key",
]
