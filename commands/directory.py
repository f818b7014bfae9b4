"""Programmes, partners and people."""

from __future__ import annotations

from datetime import date

import click

import states
from notifications.message import CHANNELS
from workflow.records import ProgrammeRecord
from workflow.rules.permissions import ROLES

from commands.context import complete, current_ctx
from commands.lazy import LazyGroup
from commands.output import console, days_cell, emit_json, phase_label, say, table
from commands.params import DATE, json_option
from commands.text import _, day, labelled, number, tr


@click.group()
def programme() -> None:
    """Programmes: one agreement, its kind, its deadline and its places."""


@programme.command(name="add")
@click.argument("name")
@click.option("--signed-on", type=DATE, required=True, multiple=True,
              help="A day the agreement was signed (YYYY-MM-DD); repeat for each signature: it takes effect at the last.")
@click.option("--kind", type=click.Choice(tuple(states.PROGRAMME_KINDS)), default="preincubation", show_default=True)
@click.option("--months", type=int, help="Length in months [kind's default: 6].")
@click.option("--capacity", type=int, help="Teams the operator can coach [preincubation: 8; fast: 1].")
@click.option("--min-days-per-week", type=float, help="Intrapreneur time minimum [preincubation: 1; fast: 2.5].")
def programme_add(name, signed_on, kind, months, capacity, min_days_per_week) -> None:
    """Add a programme. Example: preincub programme add "Pré-incubation 2020" --signed-on 2020-06-23

    Signed on several days (seed 2: 23 and 31 October 2019), it takes effect at the last:
    --signed-on 2019-10-23 --signed-on 2019-10-31"""
    p = current_ctx().wf().directory.add_programme(name, signed_on, kind=kind, months=months, capacity=capacity,
                                  min_days_per_week=min_days_per_week)
    say(tr("programme {name!q} added; deadline {deadline!d}", name=p.name, deadline=date.fromisoformat(p.deadline)))


@programme.command(name="sign")
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
        t.add_row(p.name, p.kind, p.signed_on, p.deadline, days_cell(p.days_left),
                  f"{number(p.places_taken)}/{number(p.capacity)}", number(p.teams))
    console().print(t)


@programme.command(name="list")
@json_option
def programme_list(as_json) -> None:
    """List programmes with their deadlines and places taken."""
    rows = current_ctx().wf().directory.programmes()
    if as_json:
        return emit_json(rows)
    _programme_rows(rows)


@programme.command(name="show")
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
    say(labelled(_("Partners"), ", ".join(x.name for x in p.partners) or "—"))
    say(labelled(_("Min. days/week"), number(p.min_days_per_week)))
    for ph, n in p.teams_by_phase.items():
        say("  " + labelled(phase_label(ph), number(n)))


@click.group()
def partner() -> None:
    """Partner bodies (collectivités) of a programme."""


@partner.command(name="add")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--kind", type=click.Choice(tuple(states.PARTNER_KINDS)), default="departement", show_default=True)
def partner_add(name, programme, kind) -> None:
    """Add a partner body. Example: preincub partner add "Val d'Oise" --programme "Pré-incubation 2020\""""
    p = current_ctx().wf().directory.add_partner(name, programme, kind=kind)
    say(tr("partner {name!q} added to {programme!q}", name=p.name, programme=p.programme))


# Subcommands about a person that live with their concern: web links, personal data.
@click.group(cls=LazyGroup, lazy={"revoke-links": ("commands.web:revoke_links", None),
                                  "export": ("commands.privacy:person_export", None),
                                  "erase": ("commands.privacy:person_erase", None)})
def person() -> None:
    """People: coordinators, coaches, intrapreneurs, sponsors, committee members."""


_CHANNEL = click.option("--channel", "channels", multiple=True, type=click.Choice(CHANNELS),
                        help="Where their reminders go; repeat for several [default: email].")
_LANG = click.option("--lang", "person_lang", type=click.Choice(["fr", "en"]), help="Their reminders' language.")


@person.command(name="add")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True, help="Repeat for several.")
@_CHANNEL
@_LANG
def person_add(name, email, roles, channels, person_lang) -> None:
    """Add a person. Example: preincub person add "Inès Haddad" --email ines@somme.example --role intrapreneur"""
    p = current_ctx().wf().directory.add_person(name, email, roles, channels=channels or None, lang=person_lang)
    say(tr("{name} <{email}> added as {roles}", name=p.name, email=p.email, roles=", ".join(p.roles)))


@person.command(name="edit")
@click.argument("email", shell_complete=complete("person"))
@click.option("--name")
@click.option("--add-role", "add_roles", multiple=True, type=click.Choice(ROLES))
@click.option("--remove-role", "remove_roles", multiple=True, type=click.Choice(ROLES))
@_CHANNEL
@_LANG
def person_edit(email, name, add_roles, remove_roles, channels, person_lang) -> None:
    """Change a person's name, roles, reminder channels or language."""
    p = current_ctx().wf().directory.edit_person(email, name=name, add_roles=add_roles, remove_roles=remove_roles,
                                channels=channels or None, lang=person_lang)
    say(tr("{name} <{email}> updated: roles {roles}; reminders by {channels}, in {lang}", name=p.name, email=p.email,
           roles=", ".join(p.roles), channels=", ".join(p.channels), lang=p.lang))


@person.command(name="list")
@click.option("--role", type=click.Choice(ROLES))
@json_option
def person_list(role, as_json) -> None:
    """List people and their roles."""
    rows = current_ctx().wf().directory.people(role)
    if as_json:
        return emit_json(rows)
    t = table(_("Name"), _("E-mail"), _("Roles"), _("Reminders"))
    for p in rows:
        t.add_row(p.name, p.email, ", ".join(p.roles), f"{', '.join(p.channels)} ({p.lang})")
    console().print(t)
