"""Finding a person's name and e-mail in free text, and replacing them with their pseudonym (used by
``workflow.services.privacy``: the right of access finds them, erasure replaces them).

The e-mail is always looked for; the full name only when it has two words or more (a one-word name is
too likely to be someone else's, or a partner's). Both as typed, HTML- or JSON-escaped, in any case
(Unicode too: Python decides, SQL only pre-filters), with any spacing between the words, and as a whole
word: not inside a longer word, another e-mail or a compound name.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a real address

# Around a match, what makes it part of something longer: a letter or digit, "_", "@", "-", or a "."
# followed by a letter or digit (an e-mail or a dotted name goes on; a sentence's full stop does not).
BEFORE, AFTER = r"(?<![\w.@-])", r"(?![\w@-]|\.\w)"
DATA_NAMES = frozenset(("programme", "partner", "team"))  # keys of event data holding a name: not scanned


def pseudonym(person_id: int) -> tuple[str, str]:
    """The name and e-mail an erased person keeps: their id, nothing else."""
    return f"erased-{person_id}", f"erased-{person_id}@{ERASED_DOMAIN}"


def _forms(s: str) -> list[str]:
    """A text as typed, HTML-escaped (two ways) and JSON-escaped."""
    return list(dict.fromkeys((s, html.escape(s), str(escape(s)), json.dumps(s, ensure_ascii=False)[1:-1])))


def _like(form: str) -> str:
    """An SQL LIKE pattern any case of ``form`` matches, on both databases: ASCII letters are folded by
    LIKE/ILIKE themselves; any other character (SQLite folds only ASCII) matches as ``_``; the words
    are joined by ``%`` (any spacing)."""
    words = [re.sub(r"[^\x00-\x7f]", "_", re.sub(r"([\\%_])", r"\\\1", w)) for w in form.split()]
    return "%" + "%".join(words) + "%"


@dataclass(frozen=True)
class Scrubber:
    """Finds a person's e-mail, and their full name when it has two words or more, in free text (as
    typed, HTML- or JSON-escaped; any case, Unicode too; any spacing between the words; as a whole word:
    not inside a longer word, e-mail or compound name) and replaces them with their pseudonym. A
    one-word name is too likely to be someone else's: it is only found through the e-mail."""

    email: re.Pattern
    name: re.Pattern | None
    needles: tuple[str, ...]  # the LIKE patterns a first filter in SQL looks for (workflow.store.privacy)
    to_email: str
    to_name: str

    @classmethod
    def of(cls, person_id: int, name: str, email: str) -> Scrubber:
        def pattern(items: list[str]) -> re.Pattern:
            alts = "|".join(r"\s+".join(re.escape(w) for w in x.split())
                            for x in sorted(items, key=len, reverse=True))
            return re.compile(rf"{BEFORE}(?:{alts}){AFTER}", re.IGNORECASE)

        to_name, to_email = pseudonym(person_id)
        names = _forms(" ".join(name.split())) if len(name.split()) >= 2 else []
        return cls(pattern(_forms(email)), pattern(names) if names else None,
                   tuple(dict.fromkeys(_like(x) for x in _forms(email) + names)), to_email, to_name)

    def finds(self, text: str | None) -> bool:
        return text is not None and bool(self.email.search(text) or (self.name and self.name.search(text)))

    def text(self, text: str | None) -> str | None:
        if not self.finds(text):
            return text
        text = self.email.sub(self.to_email, text)  # type: ignore[arg-type]
        return self.name.sub(self.to_name, text) if self.name else text

    def json(self, data: str | None, drop: Callable[[Any], Any] | None = None) -> str | None:
        """Event data: every string in it scrubbed but the names of programmes, partners and teams
        (``drop`` may blank parts first); text kept as is."""
        if data is None:
            return None
        try:
            value = json.loads(data)
        except ValueError:
            return self.text(data)
        new = _walk(drop(value) if drop else value, self.text)
        return data if new == value else json.dumps(new, ensure_ascii=False, sort_keys=True)


def _walk(value: Any, f: Callable[[str], str | None]) -> Any:
    if isinstance(value, str):
        return f(value)
    if isinstance(value, list):
        return [_walk(v, f) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in DATA_NAMES else _walk(v, f)) for k, v in value.items()}
    return value


def scrubber(p: dict[str, Any]) -> Scrubber:
    """The scrubber of one person (a row of ``person``)."""
    return Scrubber.of(p["id"], p["name"], p["email"])


def identifies(p: dict[str, Any], text: str) -> bool:
    """Whether ``text`` could say who the person is: their full name or e-mail, any word of their name
    of three letters or more, or their e-mail's local part (any case, as a whole word)."""
    folded = text.casefold()
    words = {w for w in re.findall(r"\w+", p["name"].casefold()) if len(w) >= 3}
    local = p["email"].split("@")[0].casefold()
    return (scrubber(p).finds(text) or bool(words & set(re.findall(r"\w+", folded)))
            or re.search(rf"{BEFORE}{re.escape(local)}{AFTER}", folded) is not None)
