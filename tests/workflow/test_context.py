"""The context every service works in, on both stores: who is acting (read once), what they may do and
read, the events they write, and finding a programme, team, person or partner by name."""

from __future__ import annotations

import pytest

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.context import default_actor, find, person_with_role
from workflow.errors import Forbidden, Invalid, NotFound
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
        assert me.roles == {"coordinator"} and ctx.me(s) is me
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
        assert ctx.visible_teams(s) is None
        own = ctx.acting_as("agent1@example.org").visible_teams(s)
        assert s.execute(own).scalars().all() == [find(s, "team", "Beta").id]
        assert ctx.acting_as("agent1@example.org").ties(s, find(s, "team", "Beta").id) == {"intrapreneur"}


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
