"""Text from logs is untrusted: one escaping module for every output.

A run folder, a metric key, a message or a value can hold anything a file name or a JSON
string can: a newline (a second output line that starts `::error file=...`, a fake finding),
an ANSI escape (`\\x1b[2J` clears the terminal), NUL (invalid XML), a lone surrogate (no
valid UTF-8 at all), or U+202E (reverses the text after it on screen). `safe` makes all of
them visible escapes; each format's function below first calls `safe`, then adds the quoting
that format needs. Reporters use these and nothing else.
"""

from __future__ import annotations

# C0 and C1 controls, DEL; the three common ones by their usual names
_ESCAPES: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))
}
_ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
# bidi marks, embeddings, overrides and isolates (they reorder what is shown), line and
# paragraph separators (line breaks to many viewers), BOM, the XML non-characters, and
# lone surrogates (Python's json module accepts "\ud800"; no encoder can write it)
_ESCAPES.update(
    (code, f"\\u{code:04x}")
    for code in (
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
        0xFEFF,
        0xFFFE,
        0xFFFF,
        *range(0xD800, 0xE000),
    )
)


def safe(text: str) -> str:
    """One visible line: control characters, newlines, bidi controls and surrogates become
    `\\n`, `\\x1b`, `\\u202e`-style escapes; everything else is kept as it is."""
    return text.translate(_ESCAPES)


def html_text(value: object) -> str:
    """Text for an HTML element or a double-quoted attribute."""
    import html  # here: the terminal report needs none of it (html.entities: ~2 ms to load)

    return html.escape(safe(str(value)))


def markdown_cell(text: str) -> str:
    """Safe inside a Markdown table cell: no HTML, no pipe, no line break, no stray emphasis
    or links (underscores stay: GitHub does not emphasise inside words like grad_norm)."""
    import html

    escaped = html.escape(safe(text), quote=False).replace("|", "\\|")
    for char in "`*[]":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def markdown_code(text: str) -> str:
    """An inline code span for a table cell (backslash escapes do not work inside one)."""
    return "`" + safe(text).replace("`", "'").replace("|", "\\|") + "`"


def github_data(text: str) -> str:
    """The message part of a GitHub workflow command, escaped as @actions/core does: the
    newlines left after `safe` are the format's own (message, then advice)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A `key=value` property of a workflow command (title, file): no `:` or `,` either."""
    return github_data(safe(text)).replace(":", "%3A").replace(",", "%2C")
