"""Text from logs is untrusted: a metric named "\\x1b[2J..." must not drive the terminal."""

from __future__ import annotations

_CONTROL = {
    code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if code != 0x0A
}


def safe(text: str) -> str:
    """Show control characters (ESC, BEL, CR, C1 codes) as visible \\xNN escapes."""
    return text.translate(_CONTROL)
