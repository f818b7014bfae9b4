"""The JSON Schemas (draft 2020-12) of what preincub prints as JSON: one file per command's ``--json``
output (``team-show.json`` for ``team show --json``), ``export-json.json`` for a programme's rows,
``export-all.json`` for the backup ``import-all`` restores, ``person-export.json`` for the right of access.

They are the compatibility promise to scripts: a field may be added (the schema too, in the same
change); none is removed or retyped without a major version. They are data shipped in the wheel, written
by hand, not derived from the code, so a change of shape shows as a failing test
(tests/commands/test_schema.py), not as a silently changed contract.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from workflow.errors import N_, NotFound

__all__ = ["load", "name_of", "names", "text", "title"]


@cache
def names() -> tuple[str, ...]:
    """Every schema's name (its file's, without ``.json``), sorted."""
    return tuple(sorted(f.name[:-5] for f in resources.files(__name__).iterdir() if f.name.endswith(".json")))


def name_of(words: str | list[str] | tuple[str, ...]) -> str:
    """A schema's name from a command as typed: ``team show``, ``team-show``, ``["team", "show"]``."""
    if isinstance(words, str):
        words = [words]
    return "-".join(w for word in words for w in word.strip().split())


def text(name: str) -> str:
    """A schema's text as shipped; an unknown name is refused, listing the known ones."""
    if name not in names():
        raise NotFound(N_("no JSON schema {name!q}; choose one of: {choices}"), code="no_schema", name=name,
                       choices=", ".join(names()))
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    """A schema as a JSON document."""
    return json.loads(text(name))


def title(name: str) -> str:
    """What a schema describes, its ``title`` (the command it is for)."""
    return str(load(name).get("title", name))
