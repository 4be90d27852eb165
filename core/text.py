"""What free text and ids may contain: no control characters, no bidirectional overrides.

A control character (U+0000-U+001F except the line feed, U+007F-U+009F) or a bidirectional
control (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the Unicode line and
paragraph separators (U+2028, U+2029) can make a stored reason or id display differently
from what was recorded (a reason whose end appears at its start, a hidden part, a forged
line in a log or a CSV export). They are refused wherever people type text the records keep:
override reasons, an admin's reason for acting for an advisor. Line feeds are allowed (a reason
may have several lines).

:data:`SAFE_TEXT_PATTERN` is written in the common subset of Python's, Rust's (pydantic) and
ECMAScript's (JSON Schema, OpenAPI) regular expressions, so the API's schema, its validation
and the store apply the same rule.
"""

from __future__ import annotations

import re

#: Pseudonymous ids (people, advisors, agencies): letters, digits, dash and underscore, 1 to 64
#: of them - no names, no spaces, no e-mail addresses. The API, the files and the store share it.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
#: The refused characters, as the body of a regular-expression character class.
UNSAFE_CHARACTER_CLASS = r"\x00-\x09\x0B-\x1F\x7F-\x9F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069"
#: Text without any refused character (line feeds allowed).
SAFE_TEXT_PATTERN = rf"^[^{UNSAFE_CHARACTER_CLASS}]*$"
_UNSAFE = re.compile(rf"[{UNSAFE_CHARACTER_CLASS}]")
#: What the rule says, for error messages.
SAFE_TEXT_RULE = "no control characters (line feeds allowed) and no bidirectional or line-separator controls"


def unsafe_characters(text: str) -> list[str]:
    """The refused characters of ``text``, as ``U+XXXX`` code points (empty when it is safe)."""
    return sorted({f"U+{ord(ch):04X}" for ch in _UNSAFE.findall(text)})
