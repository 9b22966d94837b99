"""Regular expressions shared by the spec and the service, written to mean the same in both.

JSON Schema patterns follow ECMA-262, Python's `re` differs: `\\S` treats U+0085 (NEL) as space in
Python but not in ECMA-262, so a title of just NEL was valid per the spec and rejected here
(found by schemathesis). The explicit class below is ECMA-262's white space list, in both.
"""

from __future__ import annotations

__all__ = ["NOT_BLANK"]

#: At least one character that is not white space (ECMA-262 `\s`), identical in openapi.yaml.
NOT_BLANK = r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
