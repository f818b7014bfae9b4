"""Agreements take effect at the last signature (docs/domain.md, "Time"; seed 2: 23 and 31 October 2019)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from workflow.errors import Invalid, NotFound
from workflow.store.models import Event


def test_a_programme_signed_twice_takes_effect_at_the_second_signature(wf):
    p = wf.directory.add_programme("Convention 2019", [date(2019, 10, 31), date(2019, 10, 23)])
    assert p.signatures == ("2019-10-23", "2019-10-31")
    assert p.signed_on == "2019-10-31"
    assert p.deadline == "2020-04-30"  # six months from the second signature, a month end clamping


def test_a_later_signature_moves_the_effect_and_the_deadline_an_earlier_one_does_not(wf):
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    p = wf.directory.sign_programme("Convention 2019", date(2019, 10, 31))
    assert (p.signed_on, p.deadline) == ("2019-10-31", "2020-04-30")
    p = wf.directory.sign_programme("Convention 2019", date(2019, 10, 1))
    assert p.signatures == ("2019-10-01", "2019-10-23", "2019-10-31")
    assert (p.signed_on, p.deadline) == ("2019-10-31", "2020-04-30")
    assert wf.directory.programme("Convention 2019") == p
    with wf.store.read() as s:
        signed = s.execute(sa.select(Event.data).where(Event.action == "programme.sign").order_by(Event.id)).scalars()
        assert [json.loads(d)["takes_effect"] for d in signed] == ["2019-10-31", "2019-10-31"]


def test_signatures_are_checked_and_a_refusal_records_nothing(wf):
    with pytest.raises(Invalid):
        wf.directory.add_programme("Sans signature", [])
    with pytest.raises(Invalid):
        wf.directory.add_programme("Trop tôt", [date(2019, 10, 23), date(1800, 1, 1)])
    assert [p.name for p in wf.directory.programmes()] == []
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    with pytest.raises(NotFound):
        wf.directory.sign_programme("Inconnue", date(2019, 10, 31))
    with pytest.raises(Invalid):
        wf.directory.sign_programme("Convention 2019", date(2200, 1, 1))
    assert wf.directory.programme("Convention 2019").signatures == ("2019-10-23",)


def test_a_signature_day_is_recorded_once(wf):
    with pytest.raises(Invalid) as exc:
        wf.directory.add_programme("Convention 2019", [date(2019, 10, 23), date(2019, 10, 23)])
    assert exc.value.code == "signature_twice"
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    with pytest.raises(Invalid) as exc:
        wf.directory.sign_programme("Convention 2019", date(2019, 10, 23))
    assert exc.value.code == "signature_recorded"
    assert wf.directory.programme("Convention 2019").signatures == ("2019-10-23",)


@pytest.mark.parametrize("fact", ["expense", "payment", "notice"])
def test_a_late_signature_cannot_move_the_effect_past_what_was_done_under_the_agreement(wf, fact):
    wf.directory.add_programme("Convention 2019", date(2019, 10, 31))
    wf.directory.add_partner("Grand Est", "Convention 2019", kind="region")
    if fact == "expense":
        wf.funding.add_expense("Convention 2019", "1000", date(2019, 11, 4), "Atelier")
    elif fact == "payment":
        wf.funding.set("Convention 2019", "Grand Est", cap="70000", share="50", payment="on-signature")
        wf.funding.pay("Convention 2019", "Grand Est", date(2019, 11, 4), "70000")
    else:
        wf.notices.add("Convention 2019", "Grand Est", date(2019, 11, 4), "Comité de pilotage non réuni")
    with pytest.raises(Invalid) as exc:
        wf.directory.sign_programme("Convention 2019", date(2019, 11, 5))
    assert exc.value.code == "signature_after_facts" and exc.value.params["when"] == date(2019, 11, 4)
    assert wf.directory.sign_programme("Convention 2019", date(2019, 11, 4)).signed_on == "2019-11-04"  # on the day: fine
    assert wf.directory.sign_programme("Convention 2019", date(2019, 10, 1)).signed_on == "2019-11-04"  # earlier: no move
