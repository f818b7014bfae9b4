"""Helpers of the file-format tests: a sheet as the readers give one."""

from __future__ import annotations

from workflow.formats.sheets import Sheet


def sheet(*rows, header=("équipe", "collectivité", "problème", "intrapreneur", "jours par semaine", "coach",
                         "sponsor")) -> Sheet:
    return Sheet("t.csv", 1, tuple(header), tuple((i, tuple(r)) for i, r in enumerate(rows, 2)))
