"""Pinecone's metadata rules, evaluated locally: which values may be stored, and the filter language.

The local store and the loopback Pinecone server used in tests must accept and reject exactly
the same metadata and filters as Pinecone, so a filter written against one store means the same
on the other. Filters are compiled once (validated, then turned into a predicate) and applied
per record.

Semantics follow Pinecone (modelled on MongoDB): `{"f": v}` means `{"f": {"$eq": v}}`; several
keys or operators in one object are ANDed; on a list-of-strings field `$eq`/`$in` match when any
element matches; `$ne`/`$nin` are the negations of `$eq`/`$in` (so they match records that lack
the field); the range operators take numbers only and never match a missing or non-numeric value.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from spotter.retrieval.vector_store import MetadataValue

__all__ = [
    "MAX_METADATA_BYTES",
    "InvalidFilter",
    "InvalidMetadata",
    "MetadataPredicate",
    "compile_filter",
    "validate_metadata",
]

#: Pinecone's limit on one record's metadata, as JSON.
MAX_METADATA_BYTES = 40_960

Metadata = Mapping[str, MetadataValue]
MetadataPredicate = Callable[[Metadata], bool]

_MISSING = object()
_RANGE: dict[object, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


class InvalidFilter(ValueError):
    """The filter is not valid Pinecone filter syntax (Pinecone answers 400)."""


class InvalidMetadata(ValueError):
    """The metadata holds a value Pinecone does not store (Pinecone answers 400)."""


def validate_metadata(metadata: Mapping[str, object]) -> None:
    """Raise InvalidMetadata unless every value is a str, finite number, bool or list of str."""
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidMetadata(f"metadata keys must be non-empty strings, got {key!r}")
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise InvalidMetadata(f"metadata field {key!r}: lists may hold only strings")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidMetadata(f"metadata field {key!r}: numbers must be finite")
        elif not isinstance(value, str | int | bool):
            raise InvalidMetadata(
                f"metadata field {key!r}: {type(value).__name__} is not a string, number, "
                "boolean or list of strings"
            )
    size = len(json.dumps(dict(metadata), ensure_ascii=False).encode())
    if size > MAX_METADATA_BYTES:
        raise InvalidMetadata(f"metadata is {size} bytes; the limit is {MAX_METADATA_BYTES}")


def compile_filter(spec: Mapping[str, object] | None) -> MetadataPredicate | None:
    """A predicate over a record's metadata, or None when there is nothing to filter.

    Raises InvalidFilter for syntax Pinecone would reject.
    """
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise InvalidFilter("a filter must be an object")
    if not spec:
        return None
    return _compile_object(spec)


def _compile_object(spec: Mapping[str, object]) -> MetadataPredicate:
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidFilter("each filter clause must be a non-empty object")
    parts: list[MetadataPredicate] = []
    for key, value in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise InvalidFilter(f"{key} takes a non-empty array of filters")
            clauses = [_compile_object(clause) for clause in value]
            parts.append(_all(clauses) if key == "$and" else _any(clauses))
        elif not isinstance(key, str) or key.startswith("$"):
            raise InvalidFilter(f"unknown top-level operator {key!r}")
        elif isinstance(value, Mapping):
            if not value:
                raise InvalidFilter(f"field {key!r}: empty operator object")
            parts.extend(_compile_operator(key, op, operand) for op, operand in value.items())
        else:
            parts.append(_compile_operator(key, "$eq", value))
    return parts[0] if len(parts) == 1 else _all(parts)


def _compile_operator(field: str, op: object, operand: object) -> MetadataPredicate:
    if op in ("$eq", "$ne"):
        _require_scalar(field, op, operand)
        equal = _equals(field, operand)
        return equal if op == "$eq" else _negate(equal)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list) or not operand:
            raise InvalidFilter(f"field {field!r}: {op} takes a non-empty array")
        for item in operand:
            _require_scalar(field, op, item)
        options = [_equals(field, item) for item in operand]
        member = _any(options)
        return member if op == "$in" else _negate(member)
    if op in _RANGE:
        if not _is_number(operand):
            raise InvalidFilter(f"field {field!r}: {op} takes a number")
        compare = _RANGE[op]

        def in_range(metadata: Metadata) -> bool:
            value = metadata.get(field, _MISSING)
            return _is_number(value) and compare(value, operand)

        return in_range
    if op == "$exists":
        if not isinstance(operand, bool):
            raise InvalidFilter(f"field {field!r}: $exists takes true or false")
        return lambda metadata: (field in metadata) is operand
    raise InvalidFilter(f"field {field!r}: unknown operator {op!r}")


def _require_scalar(field: str, op: object, operand: object) -> None:
    if not isinstance(operand, str | bool) and not _is_number(operand):
        raise InvalidFilter(f"field {field!r}: {op} takes a string, number or boolean")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(stored: object, wanted: object) -> bool:
    # True == 1 in Python, but Pinecone keeps booleans and numbers apart.
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored is wanted
    if _is_number(wanted):
        return _is_number(stored) and stored == wanted
    return stored == wanted


def _equals(field: str, wanted: object) -> MetadataPredicate:
    def equal(metadata: Metadata) -> bool:
        stored = metadata.get(field, _MISSING)
        if isinstance(stored, list):
            return any(_same(item, wanted) for item in stored)
        return stored is not _MISSING and _same(stored, wanted)

    return equal


def _negate(predicate: MetadataPredicate) -> MetadataPredicate:
    return lambda metadata: not predicate(metadata)


def _all(predicates: list[MetadataPredicate]) -> MetadataPredicate:
    return lambda metadata: all(p(metadata) for p in predicates)


def _any(predicates: list[MetadataPredicate]) -> MetadataPredicate:
    return lambda metadata: any(p(metadata) for p in predicates)
