"""A minimal `.wandb` writer for property tests: LevelDB log framing + protobuf history.

Written from the format description (wandb_internal.proto, LevelDB log format), not from
logscope's reader; the SDK-based tests (test_wandb_log.py) check that both agree with wandb.
"""

from __future__ import annotations

import json
import struct
import zlib

BLOCK = 32 * 1024
HEADER = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)


def varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(num: int, payload: bytes) -> bytes:
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def history_record(step: int, row: dict[str, float], timestamp: float = 1.7e9) -> bytes:
    """A Record{history = 2} as wandb-core writes it: nested_key parts, value_json text."""
    items = [("_step", json.dumps(step)), ("_timestamp", json.dumps(timestamp))]
    items += [(key, json.dumps(value)) for key, value in row.items()]
    body = b"".join(
        field(
            1, b"".join(field(2, part.encode()) for part in key.split(".")) + field(16, v.encode())
        )
        for key, v in items
    )
    body += field(2, varint(1 << 3 | 0) + varint(step) if step else b"")
    return field(2, body)


def run_record(run_id: str, name: str) -> bytes:
    return field(17, field(1, run_id.encode()) + field(8, name.encode()))


def exit_record(code: int = 0) -> bytes:
    """Record.exit (18): RunExitRecord{exit_code = 1}; the SDK writes it when a run ends."""
    return field(18, varint(1 << 3 | 0) + varint(code) if code else b"")


def frame(records: list[bytes]) -> bytes:
    """LevelDB log: 32 KiB blocks, records split into FIRST/MIDDLE/LAST where they cross."""
    out = bytearray(HEADER)
    for record in records:
        rest, first = record, True
        while True:
            room = BLOCK - len(out) % BLOCK
            if room < 7:
                out += b"\x00" * room
                continue
            piece, rest = rest[: room - 7], rest[room - 7 :]
            kind = (1 if not rest else 2) if first else (4 if not rest else 3)
            crc = zlib.crc32(bytes((kind,)) + piece)
            out += struct.pack("<IHB", crc, len(piece), kind) + piece
            first = False
            if not rest:
                break
    return bytes(out)


def wandb_bytes(rows: list[dict[str, float]]) -> bytes:
    """A whole file: a run record, one history record per row (step = its index), the exit
    record of a finished run."""
    history = [history_record(i, r) for i, r in enumerate(rows)]
    return frame([run_record("prop0001", "prop"), *history, exit_record()])
