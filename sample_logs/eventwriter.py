"""A small TensorBoard event-file writer with no dependencies (pure-Python CRC-32C).

It writes what torch.utils.tensorboard writes (TFRecord framing, `Event` protobufs with
`simple_value` scalars), plus the variants other writers produce (scalar tensors in every
encoding, SessionLog.START), byte for byte per the TensorBoard protos. Used by
generate.py (so the TensorBoard sample is reproducible without torch) and by the tests for
byte-level fixtures. Slow (pure Python), which is fine for small files.
"""

from __future__ import annotations

import struct
from pathlib import Path

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ (_POLY if _crc & 1 else 0)
    _TABLE.append(_crc)

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_STRING, DT_INT64, DT_BFLOAT16, DT_HALF = 1, 2, 3, 7, 9, 14, 19


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: ten bytes, two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(num: int, wire: int) -> bytes:
    return varint(num << 3 | wire)


def f_varint(num: int, value: int) -> bytes:
    return key(num, 0) + varint(value)


def f_bytes(num: int, data: bytes) -> bytes:
    return key(num, 2) + varint(len(data)) + data


def f_double(num: int, value: float) -> bytes:
    return key(num, 1) + struct.pack("<d", value)


def f_float(num: int, value: float) -> bytes:
    return key(num, 5) + struct.pack("<f", value)


def event(
    *,
    wall_time: float,
    step: int = 0,
    summary: bytes | None = None,
    file_version: str | None = None,
    session_status: int | None = None,
) -> bytes:
    """An Event: proto3 omits a zero step, as every real writer does."""
    out = f_double(1, wall_time)
    if step:
        out += f_varint(2, step)
    if file_version is not None:
        out += f_bytes(3, file_version.encode())
    if summary is not None:
        out += f_bytes(5, summary)
    if session_status is not None:
        out += f_bytes(7, f_varint(1, session_status))
    return out


def summary(*values: bytes) -> bytes:
    return b"".join(f_bytes(1, v) for v in values)


def simple_value(tag: str, value: float) -> bytes:
    """Summary.Value{tag, simple_value}: what add_scalar writes by default."""
    return f_bytes(1, tag.encode()) + f_float(2, value)


def metadata(plugin: str = "scalars", data_class: int = 0) -> bytes:
    out = f_bytes(1, f_bytes(1, plugin.encode()))
    return out + (f_varint(4, data_class) if data_class else b"")


def tensor_value(tag: str, tensor: bytes, plugin: str | None = "scalars") -> bytes:
    """Summary.Value{tag, tensor, metadata}: TF2 tf.summary.scalar, torch new_style."""
    out = f_bytes(1, tag.encode()) + f_bytes(8, tensor)
    return out + (f_bytes(9, metadata(plugin)) if plugin is not None else b"")


def tensor(dtype: int, **fields: bytes) -> bytes:
    """TensorProto{dtype, tensor_shape={} (rank 0), ...}; `fields` are encoded already."""
    return f_varint(1, dtype) + f_bytes(2, b"") + b"".join(fields.values())


def record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", masked_crc(header))
        + payload
        + struct.pack("<I", masked_crc(payload))
    )


def file_name(timestamp: int, host: str = "node-1.cluster", pid: int = 4242, uid: int = 0) -> str:
    """torch/tensorboard's Python writer naming; the hostname may contain dots."""
    return f"events.out.tfevents.{timestamp:010d}.{host}.{pid}.{uid}"


class EventWriter:
    """Append events to one file, starting with the file_version event."""

    def __init__(self, path: Path, wall_time: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("wb")
        self.write(event(wall_time=wall_time, file_version="brain.Event:2"))

    def write(self, payload: bytes) -> None:
        self._handle.write(record(payload))

    def scalars(self, step: int, wall_time: float, values: dict[str, float]) -> None:
        """One event per scalar, as torch's add_scalar does."""
        for tag, value in values.items():
            self.write(
                event(wall_time=wall_time, step=step, summary=summary(simple_value(tag, value)))
            )

    def start(self, step: int, wall_time: float) -> None:
        """SessionLog.START: what torch writes for SummaryWriter(purge_step=step)."""
        self.write(event(wall_time=wall_time, step=step, session_status=1))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
