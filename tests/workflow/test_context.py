"""The context every service works in, on both stores: who is acting (read once), what they may do and
read, the events they write, and finding a programme, team, person or partner by name."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.context import default_actor, find, person_with_role
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.rules.permissions import Grant
from workflow.store import people


@pytest.fixture
def ctx_wf(wf):
    seed(wf)
    ready_team(wf, "Alpha")
    ready_team(wf, "Beta", 1)
    wf.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    return wf


def test_the_default_actor_is_the_system_user():
    assert default_actor().endswith(people.SYSTEM)


def test_me_is_read_once_and_an_unknown_actor_is_refused(ctx_wf):
    ctx = ctx_wf.ctx
    with ctx.store.read() as s:
        me = ctx.me(s)
        prog = find(s, "programme", "Pré-incubation 2020").id
        assert me.roles == {"admin", "coordinator"} and ctx.me(s) is me
        assert me.grants == {Grant("admin"), Grant("coordinator", prog)}
        assert ctx.acting_as("coach@example.org").me(s).roles == {"coach"}
        with pytest.raises(Forbidden) as e:
            ctx.acting_as("nobody@example.org").me(s)
        assert e.value.code == "unknown_actor"
        with pytest.raises(Forbidden) as e:
            ctx.acting_as("root" + people.SYSTEM).me(s)
        assert e.value.code == "unknown_system_user"


def test_require_names_the_roles_needed_or_the_team_not_one_s_own(ctx_wf):
    ctx = ctx_wf.ctx
    with ctx.store.read() as s:
        alpha = find(s, "team", "Alpha")
        ctx.require(s, "decide")
        with pytest.raises(Forbidden) as e:
            ctx.acting_as("agent5@example.org").require(s, "decide")
        assert e.value.code == "role_needed" and e.value.params["needed"] == ["coordinator"]
        ctx.acting_as("agent0@example.org").require(s, "read", alpha)
        ctx.acting_as("coach@example.org").require(s, "checkin", alpha)
        with pytest.raises(Forbidden) as e:
            ctx.acting_as("coach2@example.org").require(s, "checkin", alpha)
        assert e.value.code == "not_your_team"


def test_visible_teams_all_for_a_coordinator_and_their_own_for_an_intrapreneur(ctx_wf):
    ctx = ctx_wf.ctx
    with ctx.store.read() as s:
        # the coordinator of the programme: its teams (a filter: not every programme's)
        assert set(s.execute(ctx.visible_teams(s)).scalars()) == {find(s, "team", n).id for n in ("Alpha", "Beta")}
        own = ctx.acting_as("agent1@example.org").visible_teams(s)
        assert s.execute(own).scalars().all() == [find(s, "team", "Beta").id]
        assert ctx.acting_as("agent1@example.org").ties(s, find(s, "team", "Beta").id) == {"intrapreneur"}


def test_require_in_a_programme_names_the_grant_missing_there(ctx_wf):
    ctx_wf.directory.add_person("Coord Deux", "coord2@example.org", ["coach"])
    ctx_wf.directory.add_programme("FAST 2019", date(2020, 6, 1), kind="fast", coordinator="coord2@example.org")
    ctx_wf.acting_as("coord2@example.org").directory.add_partner("Nord", "FAST 2019")
    ctx = ctx_wf.ctx
    two = ctx.acting_as("coord2@example.org")
    with ctx.store.read() as s:
        one, fast = find(s, "programme", "Pré-incubation 2020"), find(s, "programme", "FAST 2019")
        nord = find(s, "partner", "Nord", programme=fast)
        assert two.require(s, "decide", programme=fast).programmes == {fast.id}
        assert two.require(s, "manage", partner=nord).covers(fast.id)
        assert two.require(s, "decide").programmes == {fast.id}  # reaches something: the caller filters
        for kwargs in ({"programme": one}, {"team": find(s, "team", "Alpha")}):
            with pytest.raises(Forbidden) as e:
                two.require(s, "decide", **kwargs)
            assert e.value.code == "grant_needed"
            assert (e.value.params["programme"], e.value.params["grant"]) == ("Pré-incubation 2020", ["coordinator"])
        # the administrator manages everywhere, but reads teams only where granted
        assert ctx.require(s, "manage", programme=fast).everything
        with pytest.raises(Forbidden):
            ctx.require(s, "read", programme=fast)
        assert set(s.execute(two.visible_programmes(s)).scalars()) == {fast.id}
        assert set(s.execute(ctx.visible_programmes(s)).scalars()) == {one.id}
        assert s.execute(two.visible_teams(s)).scalars().all() == []
        seen = set(s.execute(two.visible_people(s)).scalars())
        assert seen == {people.actor_id(s.connection(), "coord2@example.org")}
        assert s.execute(ctx.acting_as("coach2@example.org").visible_programmes(s)).all() == []  # on no team yet
        with pytest.raises(Forbidden) as e:
            ctx.acting_as("coach2@example.org").visible_programmes(s, "decide")
        assert e.value.code == "role_needed"


def test_derived_contexts_change_one_thing_each(ctx_wf):
    ctx = ctx_wf.ctx
    later = ctx.at(FixedClock(paris(2021, 1, 4, 9, 0)))
    assert later.clock.now() == paris(2021, 1, 4, 9, 0) and later.actor == ctx.actor and ctx.clock != later.clock
    assert ctx.through("web").via == "web" and ctx.via is None
    assert ctx.acting_as("coach@example.org").store is ctx.store


def test_find_by_kind_or_not_found_with_its_code(ctx_wf):
    with ctx_wf.store.read() as s:
        prog = find(s, "programme", "Pré-incubation 2020")
        assert find(s, "team", "Alpha").programme_id == prog.id
        assert find(s, "person", "COACH@example.org").email == "coach@example.org"
        assert find(s, "partner", "Pas-de-Calais", programme=prog).name == "Pas-de-Calais"
        for kind, name, code in (("team", "Gamma", "unknown_team"), ("programme", "X", "unknown_programme"),
                                 ("person", "x@example.org", "unknown_person")):
            with pytest.raises(NotFound) as e:
                find(s, kind, name)
            assert e.value.code == code
        with pytest.raises(NotFound) as e:
            find(s, "partner", "Nord", programme=prog)
        assert e.value.code == "unknown_partner"
        assert person_with_role(s, "coach@example.org", "coach").email == "coach@example.org"
        with pytest.raises(Invalid) as e:
            person_with_role(s, "coach@example.org", "sponsor")
        assert e.value.code == "missing_role"


def test_an_event_is_written_with_the_actor_and_the_team(ctx_wf):
    ctx = ctx_wf.ctx
    with ctx.store.write() as s:
        ctx.event(s, "team.note", find(s, "team", "Alpha"), reason="pourquoi")
    last = ctx_wf.transitions.history("Alpha")[-1]
    assert (last.action, last.actor, last.reason) == ("team.note", COORD, "pourquoi")
