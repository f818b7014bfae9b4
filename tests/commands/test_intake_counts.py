"""`team import` says how many partners and people it created, counted as the language counts them
("1 partner", never "1 partners"), when there are too many to list one by one."""

from __future__ import annotations

import pytest
from tests.cli_helpers import PROG, invoke, ok
from tests.commands.test_intake import HEADER_FR, write_csv

import commands.intake


@pytest.fixture
def applications(tmp_path, monkeypatch):
    monkeypatch.setattr(commands.intake, "LISTED", 0)  # too many to list: the counts are said instead
    return write_csv(tmp_path / "candidatures.csv", [
        HEADER_FR,
        ["Écoles numériques", "Hérault", "Pas d'équipement.", "Zoé Lefèvre <zoe.lefevre@herault.example>", "1,5", ""],
        ["Routes départementales", "Hérault", "Nids-de-poule.", "Inès Haddad <ines.haddad@herault.example>", "2", ""],
    ])


def test_one_partner_and_two_people(demo_db, applications):
    dry = ok(invoke("team", "import", str(applications), "--programme", PROG, "--dry-run", db=demo_db,
                    lang="en")).stdout
    assert "would be created: 1 partner and 2 people; --json lists them all" in dry
    out = ok(invoke("team", "import", str(applications), "--programme", PROG, db=demo_db, lang="en")).stdout
    assert "created: 1 partner and 2 people; --json lists them all" in out
    assert "partners" not in out


def test_in_french(demo_db, applications):
    """Needs the French catalog (the lead's `python -m tools.catalog` and translation)."""
    out = ok(invoke("team", "import", str(applications), "--programme", PROG, db=demo_db, lang="fr")).stdout
    assert "1 collectivité et 2 personnes" in out and "1 collectivités" not in out
