"""Parsing of command-line and spec strings (never ``eval``).

Grammar of a value: a comma-separated list of items; an item is an integer
(exact), a decimal or scientific literal (a float: ``0.5`` stays a float, so
that floats stay fast), a fraction ``p/q`` (exact), ``oo``, or an identifier
(a positive symbol from :func:`freeprob.conventions.symbol`).  Reserved
names (``nan``, ``I``, ``E``, ``pi``, ...) and literals beyond the float
range are refused.

>>> parse_value("0.5")
0.500000000000000
>>> parse_value("1/2")
1/2
>>> parse_value("1,2,3")
[1, 2, 3]
>>> parse_value("q")
q
>>> parse_params(["ratio=2", "scale=1/3"])
{'ratio': 2, 'scale': 1/3}
>>> parse_value("__import__('os')")
Traceback (most recent call last):
...
freeprob.errors.ParseError: cannot parse value "__import__('os')": expected a number, p/q, oo or a symbol name
"""

from __future__ import annotations

import math
import re

import sympy as sp

from freeprob.conventions import symbol
from freeprob.errors import ParseError

__all__ = ["parse_value", "parse_params", "parse_law_spec"]

_DEC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FRAC = re.compile(r"^[+-]?\d+/\d+$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: names that sympy reads as constants or that mean "not a number"
_RESERVED = frozenset({"nan", "I", "E", "pi", "zoo", "S", "N", "O", "Q", "true", "false", "none"})


def _item(text: str):
    s = text.strip()
    if _FRAC.match(s):
        p, q = s.split("/")
        if int(q) == 0:
            raise ParseError(f"cannot parse value {text!r}: zero denominator")
        return sp.Rational(int(p), int(q))
    if _DEC.match(s):
        if re.match(r"^[+-]?\d+$", s):
            return sp.Integer(int(s))
        val = float(s)
        if not math.isfinite(val):
            raise ParseError(f"cannot parse value {text!r}: beyond the float range (write it as p/q)")
        return sp.Float(val)
    if s in ("oo", "inf", "+oo"):
        return sp.oo
    if s.lower() in _RESERVED or s in _RESERVED:
        raise ParseError(f"cannot parse value {text!r}: {s!r} is a reserved name, not a number or a symbol")
    if _NAME.match(s):
        return symbol(s)
    raise ParseError(f"cannot parse value {text!r}: expected a number, p/q, oo or a symbol name")


def parse_value(text: str):
    """Parse one value (or a comma-separated list)."""
    if "," in text:
        return [_item(p) for p in text.split(",") if p.strip()]
    return _item(text)


def parse_params(items) -> dict:
    """Parse ``["NAME=VALUE", ...]`` into an ordered dict."""
    out = {}
    for it in items or []:
        if "=" not in it:
            raise ParseError(f"parameter {it!r} is not of the form NAME=VALUE")
        name, _, val = it.partition("=")
        name = name.strip()
        if not _NAME.match(name):
            raise ParseError(f"parameter name {name!r} is not an identifier")
        out[name] = parse_value(val)
    return out


def parse_law_spec(text: str):
    """``name`` or ``name:key=value,key=value`` (list values separated by
    ``|``) -> ``(name, params)``.

    >>> parse_law_spec("discrete:values=1|2|4")
    ('discrete', {'values': [1, 2, 4]})
    >>> parse_law_spec("marchenko-pastur:ratio=1/2,scale=2")
    ('marchenko-pastur', {'ratio': 1/2, 'scale': 2})
    """
    name, _, rest = text.partition(":")
    name = name.strip()
    if not re.match(r"^[a-z][a-z0-9-]*$", name):
        raise ParseError(f"law name {name!r} is not a catalogue name (lowercase, hyphens)")
    params = {}
    if rest.strip():
        for item in rest.split(","):
            if "=" not in item:
                raise ParseError(f"{item!r} in law spec {text!r} is not of the form key=value")
            key, _, val = item.partition("=")
            params.update(parse_params([f"{key.strip()}={val.replace('|', ',')}"]))
    return name, params
