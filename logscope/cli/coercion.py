"""Typer's value coercion, without pydantic where the result is plain.

Typer (>= 0.2x) coerces every option and argument, defaults included, through a pydantic
TypeAdapter built for it on first use: for one `logscope check RUN` that is pydantic's
import and some twenty schema builds, longer than reading and checking a small run. Most
values need no such machinery: a string for a `str`, a default already of its type, a
choice named exactly, a path. For those this module gives typer's own result directly,
calling typer's own helpers (`coerce_cli_choice`, `coerce_cli_path`); anything else (a
number typed on the command line, an invalid value, a type not listed here) goes to the
TypeAdapter typer would have built, so results and error messages stay typer's own.

It relies on typer's internals (`_TyperParameter._runtime_param`, `RuntimeParam`); with a
typer without them it does nothing, and coercion is typer's unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

_UNHANDLED = object()


def install(params: list[Any]) -> None:
    """Give each typer parameter in `params` that has no coercion yet the plain one."""
    plain = _plain_class()
    if plain is None:
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", _UNHANDLED) is None:
            param._runtime_param = plain(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
            )


@cache
def _plain_class() -> Any:
    """The RuntimeParam subclass (defined once typer's internals are known to be there)."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:
        return None

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        """Typer's runtime parameter, coercing plain values itself."""

        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            result = _coerce(self.descriptor, value, param, ctx)
            if result is not _UNHANDLED:
                return result
            full = build_runtime_param(self.descriptor)  # typer's own, pydantic and all
            param._runtime_param = full
            return full._coerce_value(value, param=param, ctx=ctx)

    return PlainRuntimeParam


def _coerce(descriptor: Any, value: Any, param: Any, ctx: Any) -> Any:
    from typer._typing import get_args, get_origin

    if descriptor.file_annotation is not None:
        return _UNHANDLED
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        if not isinstance(value, (list, tuple)):
            return _UNHANDLED
        (item_type,) = get_args(annotation)
        items = [_leaf(item_type, descriptor.parameter_info, v, param, ctx) for v in value]
        return _UNHANDLED if any(i is _UNHANDLED for i in items) else items
    if get_origin(annotation) is not None:
        return _UNHANDLED  # tuples, unions: typer's way
    return _leaf(annotation, descriptor.parameter_info, value, param, ctx)


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    """Typer's `build_leaf_adapter`, case by case in its order, for the plain values."""
    from datetime import datetime
    from pathlib import Path

    from typer._param_types import (
        choice_coercion_annotation,
        coerce_cli_choice,
        coerce_cli_path,
        lenient_issubclass,
        routes_to_path,
    )
    from typer._typing import is_number_type

    if info.parser is not None:
        try:
            return info.parser(value)
        except (ValueError, AssertionError):
            return _UNHANDLED  # typer wraps these into its message: let it
    choice = choice_coercion_annotation(annotation, info)
    if choice is not None:
        try:
            return coerce_cli_choice(value, choices=choice[0], case_sensitive=choice[1], ctx=ctx)
        except ValueError:
            return _UNHANDLED
    if annotation is datetime:
        return _UNHANDLED
    if is_number_type(annotation):
        if type(value) is not annotation or info.clamp:
            return _UNHANDLED
        within = (info.min is None or value >= info.min) and (info.max is None or value <= info.max)
        return value if within else _UNHANDLED
    if annotation is bool:
        return value if type(value) is bool else _UNHANDLED
    if annotation is str:
        return value if type(value) is str else _UNHANDLED
    if routes_to_path(annotation, info):
        path_type = info.path_type
        if path_type is None and lenient_issubclass(annotation, Path):
            path_type = annotation
        if type(value) is not str or (info.allow_dash and value == "-"):
            return _UNHANDLED
        if not lenient_issubclass(path_type, Path):
            return _UNHANDLED
        # typer converts the string to path_type first (through pydantic: path_type(value))
        # and checks the path; checked as the string, the messages name it as typed
        try:
            checked = coerce_cli_path(value, info, path_type=None, param=param, ctx=ctx)
        except (ValueError, AssertionError):  # a NUL byte: typer's message
            return _UNHANDLED
        return path_type(checked)
    return _UNHANDLED
