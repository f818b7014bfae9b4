"""Sessions and single-use sign-in links, through the library alone: a session lives in the store (sign-out,
revoking and idling end it there), a sign-in link works once, a token is accepted in its canonical spelling
only, and a week whose days are not all dates is refused as invalid."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from itsdangerous import BadSignature
from sqlmodel import select

from tests.workflow.services.test_links import COACH, KEY, TEAM, at, checkin_token, ids, w  # noqa: F401 (w: a fixture)
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Invalid
from workflow.services.links import CheckInText, LinkGone, serializer, sign
from workflow.store.models import SpentLink, WebSession


def signin_token(w: Workflow, email: str = COACH) -> str:
    return w.links.signin_url(email)[0].rsplit("/", 1)[1]


def sessions_of(w: Workflow) -> list[tuple[str, int]]:
    with w.store.read() as s:
        return [tuple(r) for r in s.exec(select(WebSession.id_hash, WebSession.person_id)).all()]


def test_a_sign_in_link_works_once(w):
    token = signin_token(w)
    grant, _ = w.links.signin(token)
    with pytest.raises(LinkGone) as e:
        w.links.signin(token)
    assert e.value.code == "link_used" and token not in e.value.text("en")
    with w.store.read() as s:  # the signature's digest, kept until the link's own expiry
        spent = s.exec(select(SpentLink)).one()
    assert spent.digest == hashlib.sha256(token.rsplit(".", 1)[1].encode()).hexdigest()
    assert spent.until == w.clock.now() + timedelta(hours=1)
    assert len(sessions_of(w)) == 1  # the refused use opened nothing
    assert w.links.signin(signin_token(w))[0] == grant  # another link, made in the same second, works


def test_the_store_keeps_the_session_ids_digest_and_sign_out_ends_it(w):
    grant, session_id = w.links.signin(signin_token(w))
    assert sessions_of(w) == [(hashlib.sha256(session_id.encode()).hexdigest(), grant.person_id)]
    assert w.links.session(session_id).email == COACH
    w.links.end_session(session_id)
    with pytest.raises(LinkGone) as e:
        w.links.session(session_id)
    assert e.value.code == "session_ended" and sessions_of(w) == []


def test_revoking_ends_every_session_of_that_person_only(w):
    mine = [w.links.signin(signin_token(w))[1], w.links.signin(signin_token(w))[1]]
    theirs = w.links.signin(signin_token(w, "agent0@example.org"))[1]
    w.links.revoke(COACH)
    for session_id in mine:
        with pytest.raises(LinkGone):
            w.links.session(session_id)
    assert w.links.session(theirs).email == "agent0@example.org"


def test_a_session_ends_after_8_idle_hours_and_is_stamped_every_few_minutes(w):
    _, session_id = w.links.signin(signin_token(w))

    def seen_at() -> object:
        with w.store.read() as s:
            return s.exec(select(WebSession.seen_at)).one()

    opened = seen_at()
    at(w, 2020, 7, 9, 18, 4).links.session(session_id)
    assert seen_at() == opened  # a read only
    at(w, 2020, 7, 9, 18, 6).links.session(session_id)
    assert seen_at() == opened + timedelta(minutes=6)
    at(w, 2020, 7, 10, 2, 6).links.session(session_id)  # 8 hours after, not more: still open
    with pytest.raises(LinkGone):
        at(w, 2020, 7, 10, 10, 7).links.session(session_id)


def respelled(token: str) -> list[str]:
    """The token with its signature spelled otherwise: padded, or with the low bits its last character
    leaves unused (a 20-byte signature is 27 characters, of which the last carries 2 bits of padding)."""
    body, sig = token.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    return [f"{body}.{sig}=", f"{body}.{sig}==", f"{body}.{sig[:-1]}{alphabet[last ^ 1]}"]


def test_only_the_canonical_spelling_of_a_token_is_accepted(w):
    token, tid = checkin_token(w)
    w.links.checkin_form(token, tid, "2020-W28")
    for other in respelled(token):
        with pytest.raises(Invalid):
            w.links.checkin_form(other, tid, "2020-W28")
    signin = signin_token(w)
    for other in respelled(signin):
        with pytest.raises(Invalid):
            w.links.signin(other)
    w.links.signin(signin)  # unspent by the refused spellings
    # At the root: whatever a link of another kind (an unsubscribe link) signs with ``serializer``.
    s = serializer(KEY, "any", w.clock)
    good = s.dumps([1, "x"])
    assert s.loads(good) == [1, "x"]
    for other in respelled(good):
        with pytest.raises(BadSignature):
            s.loads(other)


def test_a_week_whose_days_are_not_all_dates_is_invalid(w):
    pid, tid = ids(w, COACH)
    far = w.at(FixedClock(w.clock.now()))
    token = sign(KEY, far.clock, "checkin", pid, 0, tid, "9999-W52")  # its Sunday would be in year 10000
    for call in (lambda: w.links.checkin_form(token, tid, "9999-W52"),
                 lambda: w.links.checkin(token, tid, "9999-W52", CheckInText(notes="x"))):
        with pytest.raises(Invalid) as e:
            call()
        assert e.value.code == "week_out_of_range"
    assert w.checkins(team=TEAM) == []
