"""The demo store, replayed through the public API: the 2020 pre-incubation programme of seed 1, and the
2019 FAST agreement of seed 2 beside it, with its own coordinator and committee: one instance, two
programmes, and each coordinator sees only their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.store import reads

PROGRAMME = "Pré-incubation 2020"
SIGNED_ON = date(2020, 6, 23)
AS_OF = datetime(2020, 11, 16, 18, 0, tzinfo=PARIS)  # five months in: every phase is populated
COORDINATOR = ("Camille Lefebvre", "camille.lefebvre@beta.example")
COACHES = (("Julien Moreau", "julien.moreau@beta.example"), ("Sarah Benali", "sarah.benali@beta.example"))
COMMITTEE = ("Hélène Dubois", "helene.dubois@beta.example")
PARTNERS = ("Nord", "Oise", "Pas-de-Calais", "Somme", "Val d'Oise")

# Seed 2: the FAST agreement with the Grand Est région, signed on 23 and 31 October 2019, for one team.
FAST = "FAST Trait d'union 2019"
FAST_SIGNED = (date(2019, 10, 23), date(2019, 10, 31))
FAST_PARTNER = "Grand Est"
FAST_TEAM = "Trait d'union"
FAST_PROBLEM = ("Deux demandeurs d'emploi sur cinq sans emploi après une formation financée par la Région estiment "
                "avoir été mal orientés.")
FAST_COORDINATOR = ("Nadia Perrin", "nadia.perrin@beta.example")
FAST_COMMITTEE = ("Marc Weber", "marc.weber@grandest.example")
FAST_SPONSOR = ("Claire Muller", "claire.muller@grandest.example")
FAST_INTRAPRENEUR = ("Lucas Schmitt", "lucas.schmitt@grandest.example")

# name, partner, intrapreneur, coach index, problem, where it ends
TEAMS = (
    ("Insertion RSA", "Nord", ("Aurélie Dupont", "aurelie.dupont@lenord.example"), 0,
     "Un allocataire du RSA sur trois décroche entre l'orientation et le premier rendez-vous d'insertion.", "investigation"),
    ("Dossiers MDPH", "Oise", ("Mathieu Lefèvre", "mathieu.lefevre@oise.example"), 1,
     "Deux dossiers MDPH sur trois arrivent incomplets et attendent des mois une pièce manquante.", "investigation"),
    ("Transport scolaire adapté", "Somme", ("Inès Haddad", "ines.haddad@somme.example"), 0,
     "Les familles d'élèves handicapés attendent la rentrée pour savoir si un transport adapté est prévu.", "poc_committee"),
    ("Assistants familiaux", "Pas-de-Calais", ("François Petit", "francois.petit@pasdecalais.example"), 1,
     "Les assistants familiaux reçoivent les enfants placés sans les informations utiles à leur accueil.", "incubation_decision"),
    ("Informations préoccupantes", "Pas-de-Calais", ("Léa Garnier", "lea.garnier@pasdecalais.example"), 0,
     "Les informations préoccupantes arrivent par dix canaux et certaines sont traitées en plusieurs semaines.", "incubated"),
    ("Signalements voirie", "Val d'Oise", ("Hugo Mercier", "hugo.mercier@valdoise.example"), 1,
     "Les usagers signalent les nids-de-poule à la mauvaise collectivité et n'ont jamais de réponse.", "not_incubated"),
    ("Cantines des collèges", "Nord", ("Chloé Lambert", "chloe.lambert@lenord.example"), 0,
     "Un tiers des repas servis dans les collèges est jeté faute de prévoir les effectifs.", "abandoned"),
    ("Archives en ligne", "Val d'Oise", ("Théo Roussel", "theo.roussel@valdoise.example"), 1,
     "Les généalogistes attendent des semaines une copie d'acte déjà numérisée.", "not_selected"),
    ("Ouvrages d'art", "Somme", ("Manon Fontaine", "manon.fontaine@somme.example"), 0,
     "Les inspections des ponts départementaux sont consignées sur papier et les alertes se perdent.", "selection"),
    ("Covoiturage des agents", "Oise", ("Karim Saïdi", "karim.saidi@oise.example"), None,
     None, "call_for_projects"),
)


def _at(wf: Workflow, y: int, m: int, d: int, h: int = 10) -> Workflow:
    return wf.at(FixedClock(datetime(y, m, d, h, 0, tzinfo=PARIS)))


def _coaching(wf: Workflow, first: date, last: date, only: tuple[str, ...] | None = None) -> None:
    """Each coach logs a Thursday check-in for the teams they coach that are in investigation."""
    day = first
    while day <= last:
        for name, _, _, coach, _, _ in TEAMS:
            if coach is None or (only and name not in only):
                continue
            if wf.teams.show(name).phase != "investigation":
                continue
            coach_wf = wf.at(FixedClock(datetime.combine(day, time(17, 30), tzinfo=PARIS))).acting_as(COACHES[coach][1])
            if name == "Insertion RSA" and day == date(2020, 8, 13):
                coach_wf.checkins.log(name, missed=True, reason="Congés d'été de l'intrapreneure.")
            else:
                week = day.isocalendar()[1]
                coach_wf.checkins.log(name, notes=f"Semaine {week} : entretiens usagers et analyse des parcours.",
                                     next_steps="Tester le prototype auprès de trois usagers.",
                                     hours=7 if name != "Dossiers MDPH" else 4, mood=3 + week % 3)
        day += timedelta(days=7)


def exists(wf: Workflow) -> bool:
    with wf.store.read() as s:
        return reads.programme_exists(s, PROGRAMME)


def _person(wf: Workflow, name: str, email: str, role: str, programme: str | None = None) -> None:
    """Add one of the demo's people (a programme role: in ``programme``); whoever runs the demo may
    already be one of them (the administrator, made by ``init``), and then only gets the role and the
    demo's name."""
    with wf.store.read() as s:
        known = reads.person_exists(s, email)
    if known:
        wf.directory.edit_person(email, name=name, add_roles=[role], programme=programme)
    else:
        wf.directory.add_person(name, email, [role], programme=programme)


def _fast(wf: Workflow) -> None:
    """Seed 2, from its signature to its incubation: its coordinator runs it, its committee hears it."""
    wf = _at(wf, 2019, 10, 31)
    _person(wf, *FAST_COORDINATOR, "coach")  # a DINSIC coach, made the programme's coordinator as it is added
    wf.directory.add_programme(FAST, list(FAST_SIGNED), kind="fast", coordinator=FAST_COORDINATOR[1])
    wf = wf.acting_as(FAST_COORDINATOR[1])
    wf.directory.add_partner(FAST_PARTNER, FAST, kind="region")
    _person(wf, *FAST_COMMITTEE, "committee", FAST)
    _person(wf, *FAST_SPONSOR, "sponsor")
    _person(wf, *FAST_INTRAPRENEUR, "intrapreneur")
    wf = _at(wf, 2019, 11, 4)
    wf.teams.add(FAST_TEAM, FAST, FAST_PARTNER, problem=FAST_PROBLEM, intrapreneurs=[FAST_INTRAPRENEUR[1]],
                 coach=FAST_COORDINATOR[1], sponsor=FAST_SPONSOR[1], days_per_week=2.5)
    wf.transitions.advance(FAST_TEAM, "submit")
    wf.teams.assess(FAST_TEAM, real=True, major=True, actionable=True, note="Étude de terrain auprès des demandeurs d'emploi.")
    wf.teams.agree(FAST_TEAM, "partner")
    wf.teams.agree(FAST_TEAM, "operator")
    wf = _at(wf, 2019, 11, 12)
    wf.transitions.advance(FAST_TEAM, "select")
    wf = _at(wf, 2020, 3, 30)
    wf.teams.poc(FAST_TEAM, "Immersions en entreprise avant la formation, autour de Metz.", "https://beta.gouv.fr/")
    wf.teams.committee(FAST_TEAM, on=date(2020, 4, 21))
    wf.transitions.advance(FAST_TEAM, "present")
    wf = _at(wf, 2020, 4, 21, 16)
    wf.acting_as(FAST_COMMITTEE[1]).teams.committee(FAST_TEAM, opinion="Déployer à plus grande échelle avec les prescripteurs.")
    wf.transitions.advance(FAST_TEAM, "hear")
    wf = _at(wf, 2020, 4, 28)
    wf.transitions.advance(FAST_TEAM, "incubate", reason="La Région poursuit le déploiement avec la DINSIC.")


STEPS = 9  # calls of ``progress`` during build, for a progress bar


def build(wf: Workflow, progress: Callable[[], None] | None = None) -> str:
    """Fill the store with the seed-1 programme and a few months of its history, then the seed-2 FAST
    agreement beside it; return the seed-1 programme's name.

    ``progress`` is called STEPS times along the way (the CLI draws a bar with it). Each step is
    taken by a facade at its own date and acting person (``at``, ``acting_as``): ``wf`` itself is
    left as it was.
    """
    step = progress or (lambda: None)
    first = wf
    wf = _at(wf, 2020, 6, 23)
    # Whoever runs the demo (the instance's administrator) adds the programme, so coordinates it too;
    # then Camille, its other coordinator, runs it.
    wf.directory.add_programme(PROGRAMME, SIGNED_ON, kind="preincubation")
    _person(wf, *COORDINATOR, "coordinator", PROGRAMME)
    wf = wf.acting_as(COORDINATOR[1])
    for p in PARTNERS:
        wf.directory.add_partner(p, PROGRAMME, kind="departement")
    for c in COACHES:
        _person(wf, *c, "coach")
    _person(wf, *COMMITTEE, "committee", PROGRAMME)
    for _, _, person, *_ in TEAMS:
        _person(wf, *person, "intrapreneur")

    step()
    # Phase 1: the call for projects (late June).
    wf = _at(wf, 2020, 6, 26)
    for name, partner, person, coach, problem, _ in TEAMS:
        wf.teams.add(name, PROGRAMME, partner, problem=problem, intrapreneurs=[person[1]],
                    days_per_week=1 if coach is not None else None,
                    coach=COACHES[coach][1] if coach is not None else None)
    wf = _at(wf, 2020, 7, 1)
    for name, *_, end in TEAMS:
        if end != "call_for_projects":
            wf.transitions.advance(name, "submit")

    step()
    # Phase 2: selection by both parties, on the three criteria.
    wf = _at(wf, 2020, 7, 3)
    for name, *_, end in TEAMS:
        if end == "selection":
            wf.teams.assess(name, real=True, major=True, actionable=True, note="Problème documenté par le service.")
            wf.teams.agree(name, "partner")
        elif end == "not_selected":
            wf.teams.assess(name, real=True, major=False, actionable=True, note="Ampleur limitée.")
        elif end != "call_for_projects":
            wf.teams.assess(name, real=True, major=True, actionable=True)
            wf.teams.agree(name, "partner")
            wf.teams.agree(name, "operator")
    wf = _at(wf, 2020, 7, 6, 9)  # the launch seminar
    for name, *_, end in TEAMS:
        if end == "not_selected":
            wf.transitions.advance(name, "reject", reason="Problème jugé non majeur par les deux parties.")
        elif end not in ("call_for_projects", "selection"):
            wf.transitions.advance(name, "select")

    step()
    # Phase 3: investigation, with a check-in every Thursday until 2 October.
    _coaching(wf, date(2020, 7, 9), date(2020, 9, 10))
    wf = _at(wf, 2020, 9, 14)
    step()
    wf.transitions.advance("Cantines des collèges", "abandon", reason="L'intrapreneure a changé de poste.")
    _coaching(wf, date(2020, 9, 17), date(2020, 10, 1))
    wf = _at(wf, 2020, 10, 5)
    step()
    for name, *_, end in TEAMS:
        if end in ("poc_committee", "incubation_decision", "incubated", "not_incubated"):
            wf.teams.poc(name, f"Prototype testé auprès d'usagers ({name}).", "https://beta.gouv.fr/")
            wf.teams.committee(name, on=date(2020, 11, 5) if end != "poc_committee" else date(2020, 12, 10))
            wf.transitions.advance(name, "present")

    step()
    # Phases 4 and 5: the strategic committee hears them, then decides.
    wf = _at(wf, 2020, 11, 5, 16)
    committee = wf.acting_as(COMMITTEE[1])
    for name, *_, end in TEAMS:
        if end in ("incubation_decision", "incubated", "not_incubated"):
            committee.teams.committee(name, opinion="Impact mesuré prometteur." if end != "not_incubated"
                         else "Problème réel mais déjà traité par l'État.")
    for name, *_, end in TEAMS:
        if end in ("incubation_decision", "incubated", "not_incubated"):
            wf.transitions.advance(name, "hear")
    wf = _at(wf, 2020, 11, 12)
    wf.transitions.advance("Informations préoccupantes", "incubate", reason="Convention d'incubation signée avec le Département.")
    wf.transitions.advance("Signalements voirie", "decline", reason="Un service national existe déjà.")
    step()
    # The two teams still investigating: Insertion RSA keeps its weekly point; Dossiers MDPH drifts.
    _coaching(wf, date(2020, 10, 8), date(2020, 11, 12), only=("Insertion RSA",))
    step()
    _fast(first)  # added last, though it ran first: seed 1 keeps the first ids (programme 1, teams 1 to 10)
    step()
    return PROGRAMME
