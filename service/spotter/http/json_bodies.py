"""Decoding a JSON request body into its model with JSON Schema's idea of an integer.

JSON has one kind of number, and JSON Schema's `type: integer` accepts any number whose
fractional part is zero: `5`, `5.0`, `5e0` and `-0.0` are all integers to a client that validates
against the spec. msgspec's `int` accepts only `5`, and its lax mode would also accept the string
`"5"`, which the spec forbids. So bodies are decoded strictly, and only when that fails is the
document read again with every integral number as an int and converted to the model.

Reading every integral number as an int, not just those in `integer` fields, is safe because
msgspec accepts an int wherever a model wants a float, and strings, booleans and nulls are left
alone. It needs request models to have no `Any` fields and no unions of `int` with `float`, where
the choice of Python type would matter; none do. Numbers are read as IEEE doubles, as JSON Schema
validators in Python and JavaScript read them.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import msgspec

__all__ = ["decode_body"]

T = TypeVar("T")


def _integral_as_int(literal: str) -> int | float:
    number = float(literal)
    if math.isinf(number):
        raise msgspec.ValidationError("Number out of range")  # what the strict decode says too
    return int(number) if number.is_integer() else number


_integral_numbers_as_ints = msgspec.json.Decoder(float_hook=_integral_as_int)


def decode_body(body: bytes, model: type[T]) -> T:
    """`body` as `model`, with integral numbers such as `5.0` accepted as ints.

    Raises what `msgspec.json.decode` raises: msgspec.DecodeError for malformed JSON,
    UnicodeDecodeError for invalid UTF-8, and msgspec.ValidationError (naming the first wrong
    field) for JSON that does not fit `model`.
    """
    try:
        return msgspec.json.decode(body, type=model)
    except msgspec.ValidationError as strict_error:
        try:
            document: Any = _integral_numbers_as_ints.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            raise strict_error from None  # the document cannot be read untyped: the strict error stands
    return msgspec.convert(document, type=model)
