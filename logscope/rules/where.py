"""`where:` conditions: a small expression language over a run's columns, nothing more.

A condition used to be handed to Polars' SQL engine, which also knows subqueries and table
functions (`read_csv('/etc/passwd')`, `read_parquet('http://...')`): a rule file could read
files or the network. Here a condition is parsed by this module into its own tree and turned
into a Polars expression over the run's columns, looked up by their literal names (a key such
as `^x_loss$` is a column, never a regex). What it accepts, and nothing else:

    "rollout/buffer_reuse" = 0            columns: "quoted" (any key) or bare_names
    loss > 2 * eval_loss                  numbers, 'texts', TRUE, FALSE, NULL; + - * / %
    a >= 1 AND NOT (b < 0 OR c <> 2)      = == != <> < <= > >=; AND, OR, NOT; ( )
    kl IS NOT NULL, step IN (1, 2, 3)     IS [NOT] NULL, [NOT] IN (literals),
    x BETWEEN 0 AND 1, abs(x) > 3         [NOT] BETWEEN; functions: see FUNCTIONS

A row where the condition is NULL (a metric not logged there) is not selected, as in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

MAX_LENGTH = 4000  # characters in one condition
MAX_DEPTH = 40  # nesting of parentheses and operators

KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "BETWEEN"}
COMPARISONS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt"}
COMPARISONS[">="] = "ge"
ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
# name: (fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "sqrt": (1, 1),
    "ln": (1, 1),
    "log10": (1, 1),
    "exp": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 2),
    "sign": (1, 1),
    "isnan": (1, 1),
    "coalesce": (1, None),
    "greatest": (1, None),
    "least": (1, None),
}
# words that mean someone expects SQL: said plainly rather than as a syntax error
_SQL = {"SELECT", "FROM", "EXISTS", "UNION", "WITH", "JOIN", "VALUES", "TABLE", "LIKE", "CASE"}

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<text>'(?:[^']|'')*')
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|<>|!=|==|[=<>+\-*/%(),])""",
    re.VERBOSE,
)


class WhereError(Exception):
    """Why a condition is refused, with the 0-based offset of the place at fault."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Column:
    """A metric named in a `where:` condition."""

    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, text, boolean or NULL in a `where:` condition."""

    value: float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Op:
    """An operator or function applied to its arguments (`eq`, `and`, `not`, `abs`, ...)."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class In:
    """`arg [NOT] IN (values...)`."""

    arg: Node
    values: tuple[Literal, ...]
    negate: bool


Node = Column | Literal | Op | In


@dataclass(frozen=True, slots=True)
class _Token:
    """One lexical token of a condition, with its offset for error messages."""

    kind: str  # number, text, quoted, name, op, end
    text: str
    offset: int


def _tokens(text: str) -> list[_Token]:
    tokens, offset = [], 0
    while offset < len(text):
        found = _TOKEN.match(text, offset)
        if found is None:
            raise WhereError(f"unexpected character {text[offset]!r}", offset)
        kind = found.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, found.group(), offset))
        offset = found.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent, one method per precedence level (OR < AND < NOT < comparison <
    + - < * / % < unary minus)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def word(self, *words: str) -> bool:
        token = self.token
        return token.kind == "name" and token.text.upper() in words

    def take(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.token.text != text:
            raise self.unexpected(f"expected '{text}'")
        self.take()

    def unexpected(self, wanted: str) -> WhereError:
        token = self.token
        if token.kind == "end":
            return WhereError(f"{wanted}, found the end of the condition", token.offset)
        if token.kind == "name" and token.text.upper() in _SQL:
            return WhereError(
                f"'{token.text}' is SQL; a where: condition is an expression over the run's "
                "columns (no subqueries, tables or patterns)",
                token.offset,
            )
        return WhereError(f"{wanted}, found '{token.text}'", token.offset)

    def parse(self) -> Node:
        node = self.disjunction()
        if self.token.kind != "end":
            raise self.unexpected("expected AND, OR or the end of the condition")
        return node

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise WhereError(f"nested more than {MAX_DEPTH} levels deep", self.token.offset)
        try:
            return parse()
        finally:
            self.depth -= 1

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.word("OR"):
            self.take()
            node = Op("or", (node, self.conjunction()))
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.word("AND"):
            self.take()
            node = Op("and", (node, self.negation()))
        return node

    def negation(self) -> Node:
        if self.word("NOT"):
            self.take()
            return Op("not", (self.nested(self.negation),))
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        token = self.token
        if token.kind == "op" and token.text in COMPARISONS:
            self.take()
            return Op(COMPARISONS[token.text], (node, self.sum()))
        if self.word("IS"):
            self.take()
            negate = self.word("NOT")
            if negate:
                self.take()
            if not self.word("NULL"):
                raise self.unexpected("expected NULL after IS")
            self.take()
            return Op("is_not_null" if negate else "is_null", (node,))
        negate = self.word("NOT")
        if negate:
            self.take()
            if not self.word("IN", "BETWEEN"):
                raise self.unexpected("expected IN or BETWEEN after NOT")
        if self.word("IN"):
            self.take()
            return In(node, self.literal_list(), negate)
        if self.word("BETWEEN"):
            self.take()
            low = self.sum()
            if not self.word("AND"):
                raise self.unexpected("expected AND in BETWEEN ... AND ...")
            self.take()
            between = Op("between", (node, low, self.sum()))
            return Op("not", (between,)) if negate else between
        return node

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        values = [self.literal_item()]
        while self.token.text == ",":
            self.take()
            values.append(self.literal_item())
        self.expect(")")
        return tuple(values)

    def literal_item(self) -> Literal:
        node = self.unary()
        if not isinstance(node, Literal):
            raise WhereError(
                "IN (...) lists numbers or 'texts' only", self.tokens[self.index - 1].offset
            )
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.token.kind == "op" and self.token.text in "+-":
            op = ARITHMETIC[self.take().text]
            node = Op(op, (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.token.kind == "op" and self.token.text in ("*", "/", "%"):
            op = ARITHMETIC[self.take().text]
            node = Op(op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.token.text in ("-", "+") and self.token.kind == "op":
            sign = self.take().text
            operand = self.nested(self.unary)
            if sign == "+":
                return operand
            value = operand.value if isinstance(operand, Literal) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return Literal(-value)
            return Op("neg", (operand,))
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.take()
            number = float(token.text)
            is_int = number.is_integer() and re.fullmatch(r"\d+", token.text)
            return Literal(int(token.text) if is_int else number)
        if token.kind == "text":
            self.take()
            return Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "quoted":
            self.take()
            name = token.text[1:-1].replace('""', '"')
            if not name:
                raise WhereError('an empty column name ""', token.offset)
            return Column(name)
        if token.text == "(":
            self.take()
            node = self.nested(self.disjunction)
            self.expect(")")
            return node
        if token.kind == "name":
            return self.name()
        raise self.unexpected("expected a column, a number or '('")

    def name(self) -> Node:
        token = self.take()
        upper = token.text.upper()
        if upper in ("TRUE", "FALSE"):
            return Literal(upper == "TRUE")
        if upper == "NULL":
            return Literal(None)
        if upper in KEYWORDS or upper in _SQL:
            self.index -= 1
            raise self.unexpected("expected a column, a number or '('")
        if self.token.text != "(":
            return Column(token.text)
        function = token.text.lower()
        if function not in FUNCTIONS:
            raise WhereError(
                f"function '{token.text}' is not allowed (allowed: {', '.join(FUNCTIONS)})",
                token.offset,
            )
        self.take()
        args = [self.nested(self.disjunction)]
        while self.token.text == ",":
            self.take()
            args.append(self.nested(self.disjunction))
        self.expect(")")
        fewest, most = FUNCTIONS[function]
        if len(args) < fewest or (most is not None and len(args) > most):
            count = str(fewest) if fewest == most else f"{fewest} or more"
            if most is not None and most != fewest:
                count = f"{fewest} to {most}"
            raise WhereError(
                f"{function}() takes {count} argument(s), got {len(args)}", token.offset
            )
        if function == "round" and len(args) == 2 and not _whole(args[1]):
            raise WhereError("round(x, n): n must be a whole number such as 2", token.offset)
        return Op(function, tuple(args))


def _whole(node: Node) -> bool:
    return isinstance(node, Literal) and type(node.value) is int


@lru_cache(maxsize=512)
def parse(text: str) -> Node:
    """The tree of a condition, or WhereError naming the offset of the first problem."""
    if len(text) > MAX_LENGTH:
        raise WhereError(f"a condition is at most {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise WhereError("the condition is empty", 0)
    return _Parser(text).parse()


def columns(text: str) -> list[str]:
    """The columns a condition reads, in order of first use."""
    found: dict[str, None] = {}
    stack: list[Node] = [parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, Column):
            found[node.name] = None
        elif isinstance(node, Op):
            stack.extend(reversed(node.args))
        elif isinstance(node, In):
            stack.append(node.arg)
    return list(found)


def rows(text: str, frame: pl.DataFrame) -> np.ndarray[Any, Any] | str:
    """A boolean mask of the frame's rows where the condition holds, or why it cannot be
    evaluated on this run (a column it reads is not logged, types that do not compare)."""
    import numpy as np
    import polars as pl

    names = columns(text)
    # Hugging Face's TensorBoard / W&B callbacks log `x` as `train/x`: the same key
    logged = {n: n if n in frame.columns else f"train/{n}" for n in names}
    missing = [name for name in names if logged[name] not in frame.columns]
    if missing:
        return f"where: column {missing[0]!r} not in this run"
    # the columns it reads, renamed c0, c1, ...: names from the data never reach Polars'
    # column selection, where '^...$' would be a regex
    aliases = {name: f"c{i}" for i, name in enumerate(names)}
    data = pl.DataFrame([frame.get_column(logged[n]).alias(aliases[n]) for n in names])
    try:
        expression = to_polars(parse(text), aliases).fill_null(False)
        if names:
            result = data.select(expression.cast(pl.Boolean)).to_series()
        else:
            result = pl.select(expression.cast(pl.Boolean)).to_series()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"where: cannot be evaluated on this run ({first})"
    mask = result.to_numpy().astype(bool)
    if not names or len(mask) != frame.height:
        return np.full(frame.height, bool(mask[0]) if len(mask) else False)
    return mask


def to_polars(node: Node, aliases: dict[str, str]) -> pl.Expr:
    """The Polars expression of a tree; columns by the names in `aliases`."""
    import polars as pl

    def build(node: Node) -> pl.Expr:
        if isinstance(node, Column):
            return pl.col(aliases[node.name])
        if isinstance(node, Literal):
            return pl.lit(node.value)
        if isinstance(node, In):
            # a chain of equalities, as SQL defines IN: mixed literals (1, 2.5) compare
            # like `=` does, and a NULL on either side makes the test NULL, not False
            arg = build(node.arg)
            tests = [arg == pl.lit(v.value) for v in node.values]
            test = tests[0]
            for other in tests[1:]:
                test = test | other
            return ~test if node.negate else test
        args = [build(arg) for arg in node.args]
        result: pl.Expr = _OPS[node.name](*args)
        return result

    return build(node)


def _ops() -> dict[str, Callable[..., pl.Expr]]:
    import polars as pl

    return {
        "or": lambda a, b: a | b,
        "and": lambda a, b: a & b,
        "not": lambda a: ~a,
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "is_null": lambda a: a.is_null(),
        "is_not_null": lambda a: a.is_not_null(),
        "between": lambda a, low, high: (a >= low) & (a <= high),
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "mod": lambda a, b: a % b,
        "neg": lambda a: -a,
        "abs": lambda a: a.abs(),
        "sqrt": lambda a: a.sqrt(),
        "ln": lambda a: a.log(),
        "log10": lambda a: a.log10(),
        "exp": lambda a: a.exp(),
        "floor": lambda a: a.floor(),
        "ceil": lambda a: a.ceil(),
        "round": lambda a, n=None: a.round(_digits(n)),
        "sign": lambda a: a.sign(),
        "isnan": lambda a: a.is_nan(),
        "coalesce": lambda *a: pl.coalesce(*a),
        "greatest": lambda *a: pl.max_horizontal(*a),
        "least": lambda *a: pl.min_horizontal(*a),
    }


def _digits(n: pl.Expr | None) -> int:
    """round(x, n): n is a whole number literal (checked by the parser); Polars takes an int."""
    if n is None:
        return 0
    import polars as pl

    return int(pl.select(n).item())


class _LazyOps(dict[str, Callable[..., Any]]):
    """The operator table, built on first use (Polars is not imported before a rule runs)."""

    def __missing__(self, key: str) -> Callable[..., Any]:
        self.update(_ops())
        return dict.__getitem__(self, key)


_OPS: dict[str, Callable[..., Any]] = _LazyOps()
