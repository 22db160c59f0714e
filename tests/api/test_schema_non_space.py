"""The schema's "not blank" pattern agrees with the server's blank rule: a string that Python's
``str.strip()`` empties (what DRF's ``trim_whitespace`` and ``allow_blank=False`` refuse) does
not match the pattern as a client reads it (ECMAScript's ``\\s``, which names fewer characters
than Python's)."""

from __future__ import annotations

import re
import sys

from devskyy.api.schema import NON_SPACE

# ECMA-262 WhiteSpace and LineTerminator: what \s means to a JSON Schema validator.
ECMA_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
AS_A_CLIENT_READS_IT = re.compile(NON_SPACE.replace(r"\s", re.escape(ECMA_WHITESPACE)))


def test_no_character_python_strips_matches_the_not_blank_pattern():
    stripped = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    accepted = [hex(ord(c)) for c in stripped if AS_A_CLIENT_READS_IT.search(c)]
    assert accepted == []


def test_the_pattern_still_accepts_text():
    assert AS_A_CLIENT_READS_IT.search("\x85 reasoning")
