"""notice: formal notices to a partner, and the one-month clock that makes an agreement terminable."""

from __future__ import annotations

from datetime import date

import click

from notifications.i18n import N_
from workflow.api import Workflow
from workflow.services.notices import TERMINABLE_FLAG, NoticeRecord

from commands.context import complete, current_ctx
from commands.output import console, emit_json, say, styled, table
from commands.params import DATE, ID, json_option
from commands.text import _, tr

# How each state reads (workflow.services.notices.STATES), and its colour.
STATE_LABELS = {"pending": (N_("clock running"), "yellow"), "answered": (N_("answered in time"), ""),
                "terminable": (N_("terminable"), "red"), "answered_late": (N_("answered late"), "")}


@click.group(short_help="Formal notices to partners.")
def notice() -> None:
    """Formal notices (mises en demeure): left unanswered one month, the agreement is terminable."""


@notice.command(name="add", short_help="Record a formal notice.")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--partner", required=True, help="The partner body (collectivité) the notice was sent to.")
@click.option("--on", "on", type=DATE, required=True, help="The day the notice was sent.")
@click.option("--breach", required=True, help="The breach of the agreement it gives notice of.")
def notice_add(programme, partner, on, breach) -> None:
    """Record a formal notice sent to a partner: it has one month to answer, the day one month later
    included; unanswered, the agreement is terminable from the day after.

    Example: preincub notice add --programme "Pré-incubation 2020" --partner Somme --on 2020-11-02
    --breach "Intrapreneur not freed one day a week"
    """
    n = current_ctx().wf().notices.add(programme, partner, on, breach)
    say(tr("formal notice #{id} to {partner!q} recorded; unanswered, the agreement is terminable from {day!d}",
           id=n.id, partner=n.partner, day=date.fromisoformat(n.terminable_on)))


@notice.command(name="answer", short_help="Record a partner's answer to a notice.")
@click.argument("notice_id", metavar="ID", type=ID)
@click.option("--on", "on", type=DATE, required=True, help="The day the partner's answer was received.")
@click.option("--note", required=True, help="What the partner answered.")
def notice_answer(notice_id, on, note) -> None:
    """Record a partner's answer to a formal notice: by the day one month after the notice (that day
    included), it stops the clock; later, it is late.

    Example: preincub notice answer 1 --on 2020-11-16 --note "Intrapreneur freed from 23 November"
    """
    n = current_ctx().wf().notices.answer(notice_id, on, note)
    day = date.fromisoformat(n.terminable_on)
    if n.state == "answered_late":
        say(tr("formal notice #{id} answered on {on!d}, late: the agreement has been terminable since {day!d}",
               id=n.id, on=on, day=day))
    else:
        say(tr("formal notice #{id} answered on {on!d}, in time: the clock is stopped", id=n.id, on=on))


@notice.command(name="list", short_help="Formal notices and their state.")
@click.option("--programme", shell_complete=complete("programme"), help="Only this programme's notices.")
@json_option
def notice_list(programme, as_json) -> None:
    """Formal notices, oldest first, with their state: clock running, answered, terminable."""
    rows = current_ctx().wf().notices.listing(programme)
    if as_json:
        return emit_json(rows)
    heads = [_("ID")] + ([] if programme else [_("Programme")]) + [
        _("Partner"), _("Sent on"), _("Breach"), _("Terminable on"), _("State"), _("Answered on"), _("Answer")]
    t = table(*heads)
    for n in rows:
        label, style = STATE_LABELS[n.state]
        t.add_row(str(n.id), *([] if programme else [n.programme]), n.partner, n.on, n.breach, n.terminable_on,
                  styled((_(label), style)), n.answered_on or "—", n.answer or "")
    console().print(t)


def flag_terminable(wf: Workflow, programme: str | None) -> None:
    """``status`` (and ``funding show``): one line per agreement made terminable by an unanswered notice."""
    for n in wf.notices.flags(programme):
        say(flag_line(n))


def flag_line(n: NoticeRecord) -> str:
    """One terminable notice, as ``status`` and ``funding show`` flag it."""
    return tr(TERMINABLE_FLAG, **n.flag_params())
