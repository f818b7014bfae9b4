"""Personal data through the library, on both stores: the access export covers every table, erasure
leaves no trace of the person (bytes of the SQLite file; every text column on PostgreSQL) while counts,
phases, dates and the audit chain stay true, and the retention purge."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import COORD, paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.services.links import LinkGone
from workflow.store.models import CheckIn, Event, Outbox, Person, PhasePeriod, SQLModel, TeamMember
from workflow.store.privacy import BY_ID, BY_TEXT

PROG = "Pré-incubation 2020"  # signed 2020-06-23: deadline 2020-12-23
NAME = "Zoé O'Brien-Kowal"
EMAIL = "zoe.obrien@example.org"
LOGIN = "zoe"  # she is also the system user "zoe"
TRACES = (NAME, EMAIL, html.escape(NAME), NAME.replace("'", "&#39;"), f"{LOGIN} (system user)")


def at(w: Workflow, *when: int) -> Workflow:
    return w.at(FixedClock(paris(*when)))


@pytest.fixture
def rich(wf):
    """Zoé, coordinator and coach: she logs check-ins, assesses, agrees, advances (also as the system
    user), gets reminders; others name her in their notes, a problem statement, reasons and messages."""
    seed(wf)
    wf.directory.add_person(NAME, EMAIL, ["coach", "coordinator"])
    with wf.store.write() as s:
        s.execute(sa.update(Person).where(Person.email == EMAIL).values(login=LOGIN))
    zoe = wf.acting_as(EMAIL)
    wf.teams.add("A", PROG, "Pas-de-Calais", problem=f"Signalé par {NAME} ({EMAIL}).",
                intrapreneurs=["agent0@example.org"], coach=EMAIL, days_per_week=1)
    zoe.transitions.advance("A", "submit")
    zoe.teams.assess("A", real=True, major=True, actionable=True, note="Vu avec le service, très clair.")
    zoe.teams.agree("A", "partner")
    wf.teams.agree("A", "operator")
    Workflow(wf.store, wf.clock, f"{LOGIN} (system user)").transitions.advance("A", "select")
    ready_team(wf, "B", 1)
    wf.transitions.advance("B", "select")
    ready_team(wf, "C", 2)
    zoe.transitions.advance("C", "abandon", reason="Intrapreneur parti : décision de Zoé.")
    first = at(zoe, 2020, 7, 9, 17).checkins.log("A", notes="Entretiens usagers, secret de Zoé.", blockers="Accès aux "
                                                "données bloqué", next_steps="Prototype papier", hours=7, mood=4)
    at(zoe, 2020, 7, 10, 9).checkins.edit(first.id, notes="Entretiens usagers corrigés par Zoé.")
    missed = at(zoe, 2020, 7, 16, 17).checkins.log("A", missed=True, reason="Zoé en congé maladie.")
    at(wf, 2020, 7, 17, 9).checkins.edit(missed.id, reason="Zoé en congé maladie, certificat reçu.")  # by COORD
    at(wf, 2020, 7, 9, 18).acting_as("coach@example.org").checkins.log("B", notes=f"Point avec {NAME} <{EMAIL}>.")
    wf.transitions.advance("B", "abandon", reason=f"Après échange avec {EMAIL.upper()}.")
    day = date(2020, 7, 20)
    while day <= date(2020, 8, 14):  # a reminder tick each working morning: coaching and missed-coaching messages
        at(wf, day.year, day.month, day.day, 10).reminders.enqueue()
        day += timedelta(days=1)
    with wf.store.read() as s:
        me = s.execute(sa.select(Person.id).where(Person.email == EMAIL)).scalar_one()
        assert s.execute(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.recipient == EMAIL)).scalar() > 0
        assert s.execute(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.recipient != EMAIL)).scalar() > 0
        assert s.execute(sa.select(sa.func.count()).select_from(Event).where(Event.actor_id == me)).scalar() >= 6
    return wf


def name_of(w: Workflow, email: str) -> str:
    with w.store.read() as s:
        return s.execute(sa.select(Person.name).where(Person.email == email)).scalar_one()


def person_id(w: Workflow, email: str) -> int:
    with w.store.read() as s:
        return s.execute(sa.select(Person.id).where(Person.email == email)).scalar_one()


def text_hits(w: Workflow, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text column of every table of the database (reflected, not the
    models: a table the code does not know is scanned too) holding a needle, in any case."""
    insp = sa.inspect(w.store.engine)
    hits = []
    with w.store.engine.connect() as conn:
        for table in insp.get_table_names():
            for col in insp.get_columns(table):
                if not isinstance(col["type"], sa.String):
                    continue
                c = sa.column(col["name"])
                for value in conn.execute(sa.select(c).select_from(sa.table(table)).where(c.is_not(None))).scalars():
                    hits += [(table, col["name"], n) for n in needles if n.lower() in str(value).lower()]
    return hits


def shape(w: Workflow) -> dict:
    """What erasure must keep: phases and dates, memberships, check-ins' numbers, events' hashed content."""
    with w.store.read() as s:
        q = lambda *cols: s.execute(sa.select(*cols).order_by(*cols)).all()  # noqa: E731
        return {"status": [(t.name, t.phase, t.phase_since, t.deadline, t.last_checkin) for t in w.teams.status()],
                "members": q(TeamMember.team_id, TeamMember.person_id, TeamMember.role),
                "periods": q(PhasePeriod.team_id, PhasePeriod.phase, PhasePeriod.start, PhasePeriod.end),
                "checkins": q(CheckIn.id, CheckIn.team_id, CheckIn.author_id, CheckIn.on, CheckIn.week,
                              CheckIn.hours, CheckIn.mood, CheckIn.missed),
                "events": q(Event.id, Event.at, Event.actor_id, Event.team_id, Event.action, Event.trigger,
                            Event.from_phase, Event.to_phase, Event.forced, Event.digest, Event.hash)}


# ---- erasure ------------------------------------------------------------------------------------

def test_erasure_leaves_no_byte_of_them_and_keeps_the_numbers(rich, db_url):
    assert text_hits(rich, TRACES)  # they are everywhere before
    pid, before = person_id(rich, EMAIL), shape(rich)
    r = rich.privacy.erase(EMAIL, "Demande d'effacement reçue le 1er septembre 2020")
    assert r.pseudonym == f"erased-{pid}@erased.invalid"
    assert r.checkins == 2 and r.messages > 0 and r.events >= 8
    assert r.rows == 2  # A's problem statement and B's check-in named her
    assert text_hits(rich, TRACES) == []
    if db_url.startswith("sqlite"):
        assert r.compacted
        path = Path(rich.store.path)
        data = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
        for trace in TRACES:
            assert trace.encode() not in data and trace.lower().encode() not in data, trace
    after = shape(rich)
    assert after["events"][:-1] == before["events"]  # not one hashed column changed; one event more
    assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
    audit = rich.audit.verify()
    assert audit.events == len(before["events"]) + 1 and audit.erased == r.events


def test_what_goes_and_what_stays(rich):
    pid = person_id(rich, EMAIL)
    erased = rich.privacy.erase(EMAIL, "Demande de la personne").events
    alias, mail = f"erased-{pid}", f"erased-{pid}@erased.invalid"
    with rich.store.read() as s:
        p = s.get(Person, pid)
        assert (p.name, p.email, p.login, p.erased_at, p.link_generation) == (alias, mail, None, rich.clock.now(), 1)
        mine = s.execute(sa.select(CheckIn).where(CheckIn.author_id == pid).order_by(CheckIn.id)).scalars().all()
        assert [(c.notes, c.blockers, c.next_steps, c.reason, c.hours, c.missed) for c in mine] == [
            (None, None, None, None, 7, False), (None, None, None, None, None, True)]
        other = s.execute(sa.select(CheckIn.notes).where(CheckIn.author_id != pid)).scalar_one()
        assert other == f"Point avec {alias} <{mail}>."  # someone else's note: only their name goes
        theirs_left = sa.select(sa.func.count()).select_from(Outbox).where(Outbox.key.like(f"%:p{pid}:%"))
        assert s.execute(theirs_left).scalar() == 0
        theirs = s.execute(sa.select(Event).where(Event.actor_id == pid)).scalars().all()
        assert theirs and all(e.actor == mail and e.reason is None and e.salt is None for e in theirs)
        edit = next(e for e in theirs if e.action == "checkin.edit")
        assert json.loads(edit.data)["changes"]["notes"] == [None, None]  # that it changed stays, not the text
        fixed = s.execute(sa.select(Event).where(Event.action == "checkin.edit", Event.actor == COORD)).scalar_one()
        assert json.loads(fixed.data)["changes"]["reason"] == [None, None] and fixed.salt is None
        last = s.execute(sa.select(Event).order_by(Event.id.desc()).limit(1)).scalar_one()
    assert rich.teams.show("A").problem == f"Signalé par {alias} ({mail})."
    assert [e.reason for e in rich.transitions.history("C") if e.trigger == "abandon"] == [None]  # hers: removed
    assert [e.reason for e in rich.transitions.history("B") if e.trigger == "abandon"] == [f"Après échange avec {mail}."]
    # Audited: who erased (pseudonymously: their id), when, why, which events it rewrote; not whose data.
    released = json.loads(last.data)["released"]
    assert (last.action, last.actor, last.actor_id, last.reason, last.team_id) == (
        "person.erase", f"person {person_id(rich, COORD)}", person_id(rich, COORD), "Demande de la personne", None)
    assert sum(b - a + 1 for a, b in released) == erased and last.salt is not None
    assert rich.directory.people("coach") and EMAIL not in [p.email for p in rich.directory.people()] + [mail]


def test_no_one_acts_as_them_and_no_message_goes_to_them(rich):
    pid = person_id(rich, EMAIL)
    assert rich.links.person_grant("signin", pid, 0).email == EMAIL  # a link made before
    rich.privacy.erase(EMAIL, "Demande")
    with pytest.raises(LinkGone):
        rich.links.person_grant("signin", pid, 0)
    with pytest.raises(Forbidden, match="unknown acting person"):
        rich.acting_as(f"erased-{pid}@erased.invalid").teams.status()
    with pytest.raises(Forbidden, match="system user 'zoe'"):
        Workflow(rich.store, rich.clock, f"{LOGIN} (system user)").teams.status()
    with pytest.raises(Forbidden):
        rich.acting_as(f"erased-{pid}@erased.invalid").privacy.export(f"erased-{pid}@erased.invalid")
    day = date(2020, 8, 17)
    while day <= date(2020, 8, 28):  # A still in investigation, still "coached" by the pseudonym
        at(rich, day.year, day.month, day.day, 10).reminders.enqueue()
        day += timedelta(days=1)
    with rich.store.read() as s:
        keys = s.execute(sa.select(Outbox.key, Outbox.recipient)).all()
    assert keys and not [k for k, r in keys if f":p{pid}:" in k or r.startswith("erased-")]


def test_refusals_change_nothing(rich):
    before = rich.dump.export()["tables"]
    with pytest.raises(NotFound, match="no person with the e-mail nobody@example.org"):
        rich.privacy.erase("nobody@example.org", "x")
    with pytest.raises(Invalid, match="not an e-mail"):
        rich.privacy.erase("<script>[/]", "x")
    with pytest.raises(Invalid, match="the reason names the person"):
        rich.privacy.erase(EMAIL, f"Demande de {NAME.upper()}")
    with pytest.raises(Invalid, match="you may not erase yourself"):
        rich.acting_as(EMAIL).privacy.erase(EMAIL, "Je pars")
    with pytest.raises(Forbidden, match="needs the role admin or coordinator"):
        rich.acting_as("coach@example.org").privacy.erase(EMAIL, "x")
    with pytest.raises(Invalid, match="the reason is empty"):
        rich.privacy.erase(EMAIL, "  ")
    assert rich.dump.export()["tables"] == before
    rich.privacy.erase("agent5@example.org", "Demande")
    with pytest.raises(Invalid, match="is already erased"):
        rich.privacy.erase(_pseudonym_of_agent5(rich), "encore")
    with pytest.raises(NotFound):
        rich.privacy.erase("agent5@example.org", "encore")


def _pseudonym_of_agent5(w: Workflow) -> str:
    with w.store.read() as s:
        return s.execute(sa.select(Person.email).where(Person.erased_at.is_not(None))).scalar_one()


def test_the_last_coordinator_cannot_erase_themselves(wf):
    with pytest.raises(Invalid, match="you may not erase yourself"):
        wf.privacy.erase(COORD, "Je pars")


# ---- access -------------------------------------------------------------------------------------

def _refers(table: sa.Table, row: dict, pid: int, actors: set[str]) -> bool:
    """Does this row refer to the person: a foreign key to them, them as actor or recipient, or their
    name or e-mail in any text (independent of workflow.services.privacy)."""
    if any(fk.column.table.name == "person" and row[fk.parent.name] == pid for fk in table.foreign_keys):
        return True
    if table.name == "person" and row["id"] == pid:
        return True
    if any(row.get(c) in actors for c in ("actor", "recipient")):
        return True
    return any(isinstance(v, str) and (NAME.lower() in v.lower() or EMAIL in v.lower()) for k, v in row.items()
               if k not in ("salt", "digest", "hash"))


def test_the_export_holds_every_row_about_them_in_every_table(rich):
    doc = rich.privacy.export(EMAIL)
    json.dumps(doc)  # plain JSON values
    pid = doc["person"]["id"]
    assert (doc["format"], doc["person"]["email"], doc["person"]["name"]) == ("preincub-personal-data", EMAIL, NAME)
    tables = SQLModel.metadata.sorted_tables
    # Every table that can refer to a person is covered by name (a future one must be added here).
    for t in tables:
        if any(fk.column.table.name == "person" for fk in t.foreign_keys) or {"actor", "recipient"} & set(t.c.keys()):
            assert t.name in set(BY_ID) | set(BY_TEXT), t.name
            assert t.name in doc["tables"], t.name
    # And every row of every table that refers to or names them is in it, whole.
    actors = {EMAIL, f"{LOGIN} (system user)"}
    with rich.store.read() as s:
        for t in tables:
            pk = [c.name for c in t.primary_key.columns]
            wanted = {tuple(r[k] for k in pk) for r in s.connection().execute(sa.select(t)).mappings()
                      if _refers(t, dict(r), pid, actors)}
            got = {tuple(r[k] for k in pk) for r in doc["tables"].get(t.name, [])}
            assert wanted <= got, (t.name, wanted - got)
    assert {len(doc["tables"][n]) > 0 for n in ("person_role", "team_member", "checkin", "event", "outbox",
                                                 "assessment", "agreement", "team")} == {True}
    event = next(e for e in doc["tables"]["event"] if e["action"] == "checkin.log" and e["reason"])
    fixed = next(e for e in doc["tables"]["event"] if e["action"] == "checkin.edit" and e["actor"] == COORD)
    assert json.loads(fixed["data"])["changes"]["reason"][1] == "Zoé en congé maladie, certificat reçu."
    assert event["reason"] == "Zoé en congé maladie." and "salt" not in event and "hash" not in event
    assert {t["name"] for t in doc["tables"]["team"]} >= {"A"}


def test_a_person_exports_their_own_data_and_no_one_elses(rich):
    assert rich.acting_as("coach@example.org").privacy.export("coach@example.org")["person"]["name"] == "Coach Un"
    with pytest.raises(Forbidden, match="needs the role admin or coordinator"):
        rich.acting_as("coach@example.org").privacy.export(EMAIL)
    with pytest.raises(NotFound):
        rich.privacy.export("nobody@example.org")


# ---- retention ----------------------------------------------------------------------------------

@pytest.fixture
def two_programmes(wf):
    """2020 (deadline 2020-12-23) with notes, and 2021 (deadline 2021-07-04) with notes."""
    seed(wf)
    ready_team(wf, "A", 0)
    wf.teams.assess("A", real=True, major=True, actionable=True, note="Note 2020")
    wf.transitions.advance("A", "select")
    at(wf, 2020, 7, 9, 17).acting_as("coach@example.org").checkins.log("A", notes="Notes 2020", blockers="B",
                                                                        next_steps="N", hours=5)
    wf.transitions.advance("A", "abandon", reason="Raison 2020")
    w21 = at(wf, 2021, 1, 5)
    w21.directory.add_programme("Pré-incubation 2021", date(2021, 1, 4))
    w21.directory.add_partner("Somme", "Pré-incubation 2021")
    w21.teams.add("Z", "Pré-incubation 2021", "Somme", problem="P", intrapreneurs=["agent3@example.org"],
                 coach="coach@example.org", days_per_week=1)
    w21.transitions.advance("Z", "submit")
    w21.teams.assess("Z", real=True, major=True, actionable=True, note="Note 2021")
    w21.teams.agree("Z", "partner")
    w21.teams.agree("Z", "operator")
    w21.transitions.advance("Z", "select")
    at(wf, 2021, 1, 7, 17).acting_as("coach@example.org").checkins.log("Z", notes="Notes 2021", hours=3)
    return at(wf, 2021, 6, 1)


def test_purge_dry_run_then_purge(two_programmes):
    w = two_programmes
    before = w.dump.export()["tables"]
    dry = w.privacy.purge(date(2021, 1, 1), dry_run=True)
    assert (dry.programmes, dry.checkins, dry.assessments, dry.events, dry.dry_run) == ((PROG,), 1, 1, 2, True)
    assert w.dump.export()["tables"] == before
    done = w.privacy.purge(date(2021, 1, 1))
    assert (done.programmes, done.checkins, done.assessments, done.events, done.dry_run) == ((PROG,), 1, 1, 2, False)
    with w.store.read() as s:
        rows = {c.notes or c.team_id: (c.notes, c.blockers, c.next_steps, c.hours)
                for c in s.execute(sa.select(CheckIn)).scalars()}
        last = s.execute(sa.select(Event).order_by(Event.id.desc()).limit(1)).scalar_one()
    assert sorted(rows.values(), key=str) == sorted([(None, None, None, 5), ("Notes 2021", None, None, 3)], key=str)
    assert w.teams.show("A").phase == "abandoned" and [e.reason for e in w.transitions.history("A") if e.trigger] == [None, None, None]
    assert [e.reason for e in w.transitions.history("Z") if e.action == "assess"] == ["Note 2021"]
    data = json.loads(last.data)
    assert (last.action, data) == ("purge", {"before": "2021-01-01", "programmes": [PROG], "checkins": 1,
                                             "assessments": 1, "events": 2, "notices": 0, "expenses": 0,
                                             "released": data["released"]})
    assert sum(b - a + 1 for a, b in data["released"]) == 2 and last.actor.startswith("person ")
    assert w.audit.verify().erased == 2
    again = w.privacy.purge(date(2021, 1, 1))
    assert (again.checkins, again.assessments, again.events) == (0, 0, 0)
    assert w.audit.verify().events == len(w.dump.export()["tables"]["event"]["rows"])  # no second purge event


def test_purge_refuses_a_future_day_and_non_coordinators(two_programmes):
    with pytest.raises(Invalid, match="after today"):
        two_programmes.privacy.purge(date(2021, 6, 2))
    with pytest.raises(Forbidden):
        two_programmes.acting_as("coach@example.org").privacy.purge(date(2021, 1, 1), dry_run=True)
    assert two_programmes.privacy.purge(date(2020, 6, 1)).programmes == ()


def test_an_erased_person_cannot_be_edited_back_into_a_role(wf):
    from workflow.errors import Invalid

    wf.directory.add_person("Léa Part", "lea.part@example.org", ["coach"])
    erased = wf.privacy.erase("lea.part@example.org", reason="Demande écrite").pseudonym
    with pytest.raises(Invalid) as exc:
        wf.directory.edit_person(erased, add_roles=["coordinator"])
    assert exc.value.code == "person_erased"


def test_erasure_finds_their_name_in_any_case_and_spacing_and_nothing_else(wf):
    """Unicode case (SQLite's own LIKE folds only ASCII), any spacing, HTML; never inside another
    e-mail, a compound name, a partner's or a programme's name; a one-word name only by its e-mail."""
    seed(wf)
    wf.directory.add_person("Aurélie Dupont", "aurelie.dupont@example.org", ["intrapreneur"])
    wf.directory.add_person("Nord", "nord@example.org", ["intrapreneur"])
    wf.directory.add_partner("Nord", PROG)
    wf.directory.add_person("Aurélie Dupont-Morel", "ad.morel@example.org", ["intrapreneur"])
    wf.teams.add("A", PROG, "Nord", problem="Vu avec AURÉLIE   DUPONT ; voir Aurélie Dupont-Morel, "
                "x.aurelie.dupont@example.org.uk, Nord et l'agence du Nord.",
                intrapreneurs=["agent0@example.org"], coach="coach@example.org", days_per_week=1)
    wf.funding.add_expense(PROG, "50", date(2020, 6, 30), "Taxi AURÉLIE DUPONT")
    pid = person_id(wf, "aurelie.dupont@example.org")
    wf.privacy.erase("aurelie.dupont@example.org", "Demande reçue")
    wf.privacy.erase("nord@example.org", "Demande reçue")
    assert wf.teams.show("A").problem == (f"Vu avec erased-{pid} ; voir Aurélie Dupont-Morel, "
                                    "x.aurelie.dupont@example.org.uk, Nord et l'agence du Nord.")
    with wf.store.read() as s:
        assert s.execute(sa.text("SELECT label FROM expense")).scalar_one() == f"Taxi erased-{pid}"
        assert sorted(s.execute(sa.text("SELECT name FROM partner")).scalars()) == ["Nord", "Pas-de-Calais"]
    assert name_of(wf, "ad.morel@example.org") == "Aurélie Dupont-Morel"
    assert wf.audit.verify().events > 0


@pytest.mark.parametrize("reason", ["sarah asked", "Demande de BENALI", "écrit par sarah.b le 2/11",
                                    "Sarah Benali", "SARAH.B@EXAMPLE.ORG"])
def test_a_reason_with_any_word_of_their_name_or_their_e_mail_is_refused(wf, reason):
    seed(wf)
    wf.directory.add_person("Sarah Benali", "sarah.b@example.org", ["intrapreneur"])
    with pytest.raises(Invalid) as caught:
        wf.privacy.erase("sarah.b@example.org", reason)
    assert caught.value.code == "reason_names_person"
    assert name_of(wf, "sarah.b@example.org") == "Sarah Benali"
    assert wf.privacy.erase("sarah.b@example.org", "Demande d'un agent, 2 novembre (Al)").events >= 0


def test_an_erasure_never_rewrites_an_earlier_erasure_or_purge_event(wf):
    """The events of erasures and purges are pseudonymous ("person <id>") and keep their salt, also
    when the coordinator who made them is erased later: the chain checks forgotten salts by them."""
    seed(wf)
    wf.directory.add_person("Léa Part", "lea.part@example.org", ["coordinator"])
    wf.directory.add_person("Paul Ancien", "paul.ancien@example.org", ["coach"])
    wf.teams.add("Équipe de Paul", PROG, "Pas-de-Calais", coach="paul.ancien@example.org")  # in Léa's programme
    lea = wf.acting_as("lea.part@example.org")
    lea.privacy.erase("paul.ancien@example.org", "Demande écrite")
    wf.privacy.erase("lea.part@example.org", "Départ")
    with wf.store.read() as s:
        rows = s.execute(sa.select(Event).where(Event.action == "person.erase").order_by(Event.id)).scalars().all()
    assert [(e.actor, e.reason, e.salt is not None) for e in rows] == [
        (f"person {rows[0].actor_id}", "Demande écrite", True), (f"person {rows[1].actor_id}", "Départ", True)]
    assert wf.audit.verify().erased > 0


def test_the_export_withholds_the_text_of_messages_to_others(rich):
    """Other people's messages that name them are others' data too (GDPR art. 15(4)): listed, not given."""
    with rich.store.write() as s:
        first = s.execute(sa.select(sa.func.min(Outbox.id)).where(Outbox.recipient != EMAIL)).scalar_one()
        s.execute(sa.update(Outbox).where(Outbox.id == first).values(body_text=f"Votre coach : {NAME}."))
    doc = rich.privacy.export(EMAIL)
    mine = [m for m in doc["tables"]["outbox"] if "withheld" not in m]
    others = [m for m in doc["tables"]["outbox"] if "withheld" in m]
    assert mine and {m["recipient"] for m in mine} == {EMAIL}
    with rich.store.read() as s:
        naming = {m.id for m in s.execute(sa.select(Outbox).where(Outbox.recipient != EMAIL)).scalars()
                  if "Zoé" in m.body_text or EMAIL in m.body_text}
    assert naming and {m["id"] for m in others} == naming
    assert all(set(m) == {"id", "created_at", "sent_at", "withheld"} for m in others)


def test_purge_removes_the_programmes_notices_and_expense_labels(two_programmes):
    w = two_programmes
    notice = w.notices.add(PROG, "Pas-de-Calais", date(2020, 11, 2), "Agent non libéré, dit Zéphyrin")
    w.notices.answer(notice.id, date(2020, 11, 10), "Réponse de Zéphyrin")
    w.funding.add_expense(PROG, "50", date(2020, 7, 7), "Taxi Zéphyrin")
    w.funding.add_expense("Pré-incubation 2021", "60", date(2021, 1, 7), "Taxi 2021")
    done = w.privacy.purge(date(2021, 1, 1))
    assert (done.notices, done.expenses, done.events) == (1, 1, 5)
    with w.store.read() as s:
        text = [str(v) for t in ("notice", "expense", "event")
                for r in s.execute(sa.text(f"SELECT * FROM {t}")).all() for v in r]
        assert s.execute(sa.text("SELECT breach, answer, answered_on IS NOT NULL FROM notice")).one() == ("", "", True)
        assert sorted(s.execute(sa.text("SELECT label FROM expense")).scalars()) == ["", "Taxi 2021"]
    assert not any("Zéphyrin" in v for v in text)
    assert w.audit.verify().erased == 5


# ---- scopes: a coordinator handles the data of the people of their programmes only -------------------------

def test_a_coordinator_exports_erases_and_purges_only_in_their_programmes(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    ca = wf.acting_as(sc.COORD_A)
    before = sc.counts(wf)
    sc.refused_in(ca.privacy.export, sc.B, sc.COACH_B)  # Beta's coach: of B only
    sc.refused_in(ca.privacy.erase, sc.B, sc.COORD_B, "Demande")
    for who in (sc.ADMIN, "sans.programme@example.org"):  # an administrator; a person in no programme
        if who != sc.ADMIN:
            wf.directory.add_person("Sans Programme", who, ["coach"])
            before = sc.counts(wf)
        with pytest.raises(Forbidden) as e:
            ca.privacy.erase(who, "Demande")
        assert e.value.code == "admin_needed"
    for w in (wf.acting_as(sc.COMMITTEE_A), wf.acting_as(sc.PARTNER_X), wf.acting_as(sc.COACH_A)):
        with pytest.raises(Forbidden):  # their own data only
            w.privacy.export(sc.AGENT_A)
        assert w.privacy.export(w.ctx.actor)["person"]["email"] == w.ctx.actor
    assert sc.counts(wf) == before
    assert ca.privacy.export(sc.COACH_A)["person"]["email"] == sc.COACH_A  # Alpha's coach: of A only
    assert wf.privacy.export(sc.COACH_B)["person"]["email"] == sc.COACH_B  # the administrator: anyone
    assert ca.privacy.erase(sc.AGENT_A, "Demande écrite").pseudonym.startswith("erased-")
    # The purge: only the ended programmes the coordinator reaches; B's texts stay.
    later = at(ca, 2021, 6, 1)
    assert later.privacy.purge(date(2021, 1, 1), dry_run=True).programmes == (sc.A,)
    done = later.privacy.purge(date(2021, 1, 1))
    assert done.programmes == (sc.A,) and done.notices == 2 and done.expenses == 1
    with wf.store.read() as s:
        breaches = dict(s.execute(sa.text("SELECT p.name, n.breach FROM notice n JOIN programme p "
                                          "ON p.id = n.programme_id WHERE p.name = :b"), {"b": sc.B}).all())
    assert breaches == {sc.B: f"Manquement de {sc.Z}"}
    assert at(wf, 2021, 6, 1).privacy.purge(date(2021, 1, 1)).programmes == (sc.A, sc.B)  # the administrator: all


def test_an_erased_person_keeps_no_grant(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    wf.privacy.erase(sc.PARTNER_X, "Demande")
    with wf.store.read() as s:
        assert s.execute(sa.text("SELECT count(*) FROM person_grant g JOIN person p ON p.id = g.person_id "
                                 "WHERE p.erased_at IS NOT NULL")).scalar_one() == 0
    assert wf.audit.verify().events > 0
