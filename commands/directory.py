"""Programmes, partners and people."""

from __future__ import annotations

from datetime import date

import click

import states
from notifications.message import CHANNELS
from workflow.records import GrantRecord, PersonRecord, ProgrammeRecord
from workflow.rules.due import REMINDER_KINDS, REMINDER_NAMES
from states.terms import PROGRAMME_KIND_LABELS
from workflow.rules.permissions import INSTANCE_ROLES, PROGRAMME_ROLES, ROLE_LABELS, ROLES

from commands.context import complete, current_ctx
from commands.lazy import LazyGroup
from commands.output import console, days_cell, emit_json, phase_label, say, table
from commands.params import DATE, INTEGER, NUMBER, json_option
from commands.text import _, day, labelled, number, tr


@click.group(short_help="Programmes, their agreements and deadlines.")
def programme() -> None:
    """Programmes: one agreement, its kind, its deadline and its places."""


@programme.command(name="add", short_help="Add a programme.")
@click.argument("name")
@click.option("--signed-on", type=DATE, required=True, multiple=True,
              help="A day the agreement was signed (YYYY-MM-DD); repeat for each signature: it takes effect at the last.")
@click.option("--kind", type=click.Choice(tuple(states.PROGRAMME_KINDS)), default="preincubation", show_default=True)
@click.option("--months", type=INTEGER, help="Length in months [kind's default: 6].")
@click.option("--capacity", type=INTEGER, help="Teams the operator can coach [preincubation: 8; fast: 1].")
@click.option("--min-days-per-week", type=NUMBER, help="Intrapreneur time minimum [preincubation: 1; fast: 2.5].")
@click.option("--coordinator", metavar="EMAIL", shell_complete=complete("person"),
              help="Its first coordinator [default: the administrator adding it].")
def programme_add(name, signed_on, kind, months, capacity, min_days_per_week, coordinator) -> None:
    """Add a programme (an instance administrator). Example: preincub programme add "Pré-incubation 2020"
    --signed-on 2020-06-23

    Signed on several days (seed 2: 23 and 31 October 2019), it takes effect at the last:
    --signed-on 2019-10-23 --signed-on 2019-10-31"""
    p = current_ctx().wf().directory.add_programme(name, signed_on, kind=kind, months=months, capacity=capacity,
                                  min_days_per_week=min_days_per_week, coordinator=coordinator)
    say(tr("programme {name!q} added; deadline {deadline!d}", name=p.name, deadline=date.fromisoformat(p.deadline)))


@programme.command(name="sign", short_help="Record a signature of the agreement.")
@click.argument("name", shell_complete=complete("programme"))
@click.option("--on", "signed_on", type=DATE, required=True, help="The day of this signature (YYYY-MM-DD).")
def programme_sign(name, signed_on) -> None:
    """Record one more signature of a programme's agreement: the last one is when it takes effect.

    Example: preincub programme sign "Pré-incubation 2020" --on 2020-06-30"""
    p = current_ctx().wf().directory.sign_programme(name, signed_on)
    say(tr("signature of {name!q} on {day!d} recorded; it takes effect on {effect!d}, deadline {deadline!d}",
           name=p.name, day=signed_on, effect=date.fromisoformat(p.signed_on),
           deadline=date.fromisoformat(p.deadline)))


def _programme_rows(rows: list[ProgrammeRecord]) -> None:
    t = table(_("Programme"), _("Kind"), _("Takes effect"), _("Deadline"), _("Days left"), _("Places"), _("Teams"))
    for p in rows:
        kind = _(PROGRAMME_KIND_LABELS[p.kind]) if p.kind in PROGRAMME_KIND_LABELS else p.kind
        t.add_row(p.name, kind, p.signed_on, p.deadline, days_cell(p.days_left),
                  f"{number(p.places_taken)}/{number(p.capacity)}", number(p.teams))
    console().print(t)


@programme.command(name="list", short_help="List programmes and places taken.")
@json_option
def programme_list(as_json) -> None:
    """List programmes with their deadlines and places taken."""
    rows = current_ctx().wf().directory.programmes()
    if as_json:
        return emit_json(rows)
    _programme_rows(rows)


@programme.command(name="show", short_help="One programme: partners, teams per phase.")
@click.argument("name", shell_complete=complete("programme"))
@json_option
def programme_show(name, as_json) -> None:
    """One programme: numbers, partners, teams per phase."""
    p = current_ctx().wf().directory.programme(name)
    if as_json:
        return emit_json(p)
    _programme_rows([p])
    say(labelled(_("Signatures"), ", ".join(day(date.fromisoformat(d)) for d in p.signatures)))
    say(labelled(_("Takes effect"), day(date.fromisoformat(p.signed_on))))
    say(labelled(_("Partners"), ", ".join(f"{x.name} ({x.insee})" if x.insee else x.name for x in p.partners) or "—"))
    say(labelled(_("Min. days/week"), number(p.min_days_per_week)))
    for ph, n in p.teams_by_phase.items():
        say("  " + labelled(phase_label(ph), number(n)))


@click.group(short_help="Partner bodies of a programme.")
def partner() -> None:
    """Partner bodies (collectivités) of a programme."""


_INSEE = click.option("--insee", metavar="CODE",
                      help="Its INSEE département code (80, 2A, 971): a Démarches Simplifiées form's "
                           "\"80 - Somme\" matches it.")


@partner.command(name="add")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--kind", type=click.Choice(tuple(states.PARTNER_KINDS)), default="departement", show_default=True)
@_INSEE
def partner_add(name, programme, kind, insee) -> None:
    """Add a partner body. Example: preincub partner add "Val d'Oise" --programme "Pré-incubation 2020\"
    --insee 95"""
    p = current_ctx().wf().directory.add_partner(name, programme, kind=kind, insee=insee)
    say(tr("partner {name!q} added to {programme!q}", name=p.name, programme=p.programme))


@partner.command(name="edit", short_help="Change a partner body's INSEE code.")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@_INSEE
@click.option("--no-insee", is_flag=True, help="Take its INSEE code away.")
def partner_edit(name, programme, insee, no_insee) -> None:
    """Change a partner body's INSEE département code. Example: preincub partner edit Somme --programme
    "Pré-incubation 2020" --insee 80"""
    if (insee is None) == (not no_insee):
        raise click.UsageError(_("give --insee CODE or --no-insee"))
    p = current_ctx().wf().directory.edit_partner(name, programme, insee=None if no_insee else insee)
    say(tr("partner {name!q} of {programme!q}: INSEE code {insee}", name=p.name, programme=p.programme,
           insee=p.insee or "—"))


# Subcommands about a person that live with their concern: web links, personal data.
@click.group(cls=LazyGroup, short_help="People, their roles and grants.",
             lazy={"revoke-links": ("commands.web:revoke_links", None),
                   "export": ("commands.privacy:person_export", None),
                   "erase": ("commands.privacy:person_erase", None)})
def person() -> None:
    """People: administrators, coordinators, committee members, partner readers, coaches, intrapreneurs, sponsors."""


_CHANNEL = click.option("--channel", "channels", multiple=True, type=click.Choice(CHANNELS),
                        help="Where their reminders go; repeat for several [default: email].")
_LANG = click.option("--lang", "person_lang", type=click.Choice(["fr", "en"]), help="Their reminders' language.")
MUTE_CHOICES = (*REMINDER_KINDS, "all")  # workflow.services.mutes.CHOICES, without loading the services


_PROGRAMME = click.option("--programme", shell_complete=complete("programme"),
                          help="Where a programme role (coordinator, committee, partner) is held "
                               "[default: the only programme].")
_PARTNER = click.option("--partner", help="The partner body a partner reader reads (with the role partner).")


def grant_text(g: GrantRecord) -> str:
    """A grant as a person reads it: ``admin``, ``coordinator (Pré-incubation 2020)``,
    ``partner (Pré-incubation 2020, Somme)``."""
    where = [x for x in (g.programme, g.partner) if x]
    return role_word(g.role) + (f" ({', '.join(where)})" if where else "")


def role_word(role: str) -> str:
    """A role as the language names it ("coordinateur"); the id is what the options take."""
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def roles_text(p: PersonRecord) -> str:
    """A person's roles: their team roles, then each grant with where it is held."""
    granted = {g.role for g in p.grants}
    return ", ".join([role_word(r) for r in p.roles if r not in granted] + [grant_text(g) for g in p.grants])


@person.command(name="add")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True, help="Repeat for several.")
@_PROGRAMME
@_PARTNER
@_CHANNEL
@_LANG
def person_add(name, email, roles, programme, partner, channels, person_lang) -> None:
    """Add a person. Example: preincub person add "Inès Haddad" --email ines@somme.example --role intrapreneur

    A programme role is held in a programme: --role committee --programme "Pré-incubation 2020"; a
    partner reader reads one partner body: --role partner --programme P --partner Somme."""
    p = current_ctx().wf().directory.add_person(name, email, roles, channels=channels or None, lang=person_lang,
                                                programme=programme, partner=partner)
    say(tr("{name} <{email}> added as {roles}", name=p.name, email=p.email, roles=roles_text(p)))


@person.command(name="edit", short_help="Change a person's name, roles or channels.")
@click.argument("email", shell_complete=complete("person"))
@click.option("--name")
@click.option("--add-role", "add_roles", multiple=True, type=click.Choice(ROLES))
@click.option("--remove-role", "remove_roles", multiple=True, type=click.Choice(ROLES))
@_PROGRAMME
@_PARTNER
@_CHANNEL
@_LANG
@click.option("--mute", "mute", multiple=True, type=click.Choice(MUTE_CHOICES),
              help="Stop a kind of reminder for them (all: every kind they may stop); repeat for several.")
@click.option("--unmute", "unmute", multiple=True, type=click.Choice(MUTE_CHOICES),
              help="Send them a muted kind of reminder again (all: every kind); repeat for several.")
def person_edit(email, name, add_roles, remove_roles, programme, partner, channels, person_lang, mute,
                unmute) -> None:
    """Change a person's name, roles, reminder channels or language (a programme role: in --programme), or
    the kinds of reminders they receive (--mute, --unmute)."""
    p = current_ctx().wf().directory.edit_person(email, name=name, add_roles=add_roles, remove_roles=remove_roles,
                                channels=channels or None, lang=person_lang, programme=programme,
                                partner=partner, mute=mute, unmute=unmute)
    say(tr("{name} <{email}> updated: roles {roles}; reminders by {channels}, in {lang}", name=p.name, email=p.email,
           roles=roles_text(p), channels=", ".join(p.channels), lang=p.lang))
    if mute or unmute:
        say(labelled(_("Muted reminders"), ", ".join(_(REMINDER_NAMES[k]) for k in p.muted) or "—"))


_GRANTED = click.Choice(INSTANCE_ROLES + PROGRAMME_ROLES)


@person.command(name="grant", short_help="Grant a role where it is held.")
@click.argument("email", shell_complete=complete("person"))
@click.argument("role", type=_GRANTED, metavar="ROLE")
@click.option("--programme", shell_complete=complete("programme"),
              help="The programme it is held in (not for admin) [default: the only programme].")
@_PARTNER
def person_grant(email, role, programme, partner) -> None:
    """Grant a role where it is held: admin (the instance), coordinator or committee (a programme), partner
    (a partner body of a programme). An administrator grants administrators and coordinators; a coordinator
    their programme's committee and partner readers.

    Example: preincub person grant helene@beta.example committee --programme "Pré-incubation 2020\""""
    p = current_ctx().wf().directory.grant(email, role, programme, partner)
    say(tr("{name} <{email}> now holds {roles}", name=p.name, email=p.email, roles=roles_text(p)))


@person.command(name="revoke", short_help="Take a granted role away.")
@click.argument("email", shell_complete=complete("person"))
@click.argument("role", type=_GRANTED, metavar="ROLE")
@click.option("--programme", shell_complete=complete("programme"),
              help="The programme it is held in (not for admin) [default: the only programme].")
def person_revoke(email, role, programme) -> None:
    """Take a granted role away (a partner reader's: for every partner body of the programme).

    Example: preincub person revoke helene@beta.example committee --programme "Pré-incubation 2020\""""
    p = current_ctx().wf().directory.revoke(email, role, programme)
    say(tr("{name} <{email}> now holds {roles}", name=p.name, email=p.email, roles=roles_text(p) or "—"))


@person.command(name="show", short_help="One person: roles, grants, reminders.")
@click.argument("email", shell_complete=complete("person"))
@json_option
def person_show(email, as_json) -> None:
    """One person: their team roles, their grants and where they hold them, their reminders."""
    p = current_ctx().wf().directory.person(email)
    if as_json:
        return emit_json(p)
    say(labelled(_("Name"), p.name))
    say(labelled(_("E-mail"), p.email))
    team_roles = [r for r in p.roles if r not in {g.role for g in p.grants}]
    say(labelled(_("Team roles"), ", ".join(map(role_word, team_roles)) or "—"))
    if not p.grants:
        say(labelled(_("Grants"), "—"))
    else:
        t = table(_("Role"), _("Programme"), _("Partner"))
        for g in p.grants:
            t.add_row(role_word(g.role), g.programme or "—", g.partner or "—")
        say(labelled(_("Grants"), "").rstrip())
        console().print(t)
    say(labelled(_("Reminders"), f"{', '.join(p.channels)} ({p.lang})"))
    say(labelled(_("Muted reminders"), ", ".join(_(REMINDER_NAMES[k]) for k in p.muted) or "—"))


@person.command(name="list", short_help="List people and their roles.")
@click.option("--role", type=click.Choice(ROLES))
@json_option
def person_list(role, as_json) -> None:
    """List people and their roles, with where they hold them."""
    rows = current_ctx().wf().directory.people(role)
    if as_json:
        return emit_json(rows)
    t = table(_("Name"), _("E-mail"), _("Roles"), _("Reminders"))
    for p in rows:
        t.add_row(p.name, p.email, roles_text(p), f"{', '.join(p.channels)} ({p.lang})")
    console().print(t)
