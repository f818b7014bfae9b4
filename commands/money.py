"""funding and expense: what each partner owes and pays, in Decimal euros."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from decimal import Decimal

import click
from babel.numbers import format_percent

from notifications import documents, i18n
from notifications.i18n import N_
from workflow.rules.money import PAYMENT_LABELS, PAYMENTS

from commands.context import complete, current_ctx
from commands.output import console, emit_json, say, table
from commands.params import AMOUNT, DATE, FilePath, PERCENT, json_option
from commands.reports import check_output, staged_document
from commands.text import _, current_lang, labelled, ngettext, tr

_PROGRAMME = click.option("--programme", required=True, shell_complete=complete("programme"))
_PARTNER = click.option("--partner", required=True, help="The partner body (collectivité), by name.")


def money(value: Decimal | None) -> str:
    """An amount as this invocation's language writes it: "9 000,00 €", "€9,000.00"."""
    return "—" if value is None else i18n.format_money(value, current_lang())


def percent(share: Decimal) -> str:
    """A share in percent as the language writes it: "50 %", "50%"."""
    return format_percent(share / 100, locale=current_lang(), decimal_quantization=False)


@click.group(short_help="Partners' funding of a programme.")
def funding() -> None:
    """Funding per partner: cap, share of the expenses, statement, the one payment."""


@funding.command(name="set", short_help="Set a partner's funding.")
@_PROGRAMME
@_PARTNER
@click.option("--cap", type=AMOUNT, required=True, help="The most the partner contributes, in euros (9000, 9 000, "
                                                        "9000,00).")
@click.option("--share", type=PERCENT, help="Its share of the expenses really incurred, in percent [100].")
@click.option("--payment", type=click.Choice(PAYMENTS), required=True,
              help="after-statement: one payment on a statement of the expenses (seed 1); on-signature: one payment "
                   "of the cap on signature, unused funds given back (seed 2).")
def funding_set(programme, partner, cap, share, payment) -> None:
    """Set (or correct, until it has paid) a partner's funding of a programme.

    Example: preincub funding set --programme "Pré-incubation 2020" --partner "Pas-de-Calais" --cap 9000
    --payment after-statement"""
    f = current_ctx().wf().funding.set(programme, partner, cap=cap, payment=payment,
                                       share=Decimal(100) if share is None else share)
    say(tr("funding of {partner!q} in {programme!q} set: cap {cap!m}, {share} of the expenses, paid {how!t}",
           partner=f.partner, programme=f.programme, cap=f.cap, share=percent(f.share),
           how=PAYMENT_LABELS[f.payment]))


@funding.command(name="statement", short_help="Issue a statement of the expenses.")
@_PROGRAMME
@_PARTNER
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", "output", type=FilePath(writable=True), metavar="FILE",
              help="Write the document to this file (created 0600) instead of standard output.")
def funding_statement(programme, partner, fmt, output) -> None:
    """Issue a statement of the expenses really incurred to a partner: its figures are recorded as of
    today (an after-statement partner pays on it) and the document lists the expenses, the total, the
    share, the cap, the amount due and the payment terms.

    Example: preincub funding statement --programme "Pré-incubation 2020" --partner "Pas-de-Calais"
    --format html -o etat.html"""
    if output is not None:
        check_output(output)  # before issuing: a refusal in its own words, nothing done
    render = documents.statement_html if fmt == "html" else documents.statement_markdown
    lang = current_lang()
    # The document is written (to its temporary file) before the statement is committed, and put in
    # place (or printed) after: a document that cannot be written records no statement, a statement
    # that cannot be committed leaves no document.
    with ExitStack() as staged:
        current_ctx().wf().funding.issue_statement(
            programme, partner, deliver=lambda st: staged.enter_context(staged_document(render(st, lang), output)))


@funding.command(name="payment", short_help="Record a partner's one payment.")
@_PROGRAMME
@_PARTNER
@click.option("--on", "on", type=DATE, required=True, help="The day it was paid (YYYY-MM-DD).")
@click.option("--amount", type=AMOUNT, required=True, help="In euros (9000, 9 000, 9000,00).")
def funding_payment(programme, partner, on, amount) -> None:
    """Record a partner's one single payment, of exactly what it owes: after-statement, once the agreement
    took effect and a statement was issued, what it says is due; on-signature, its cap, on or after the
    effective date.

    Example: preincub funding payment --programme "Pré-incubation 2020" --partner "Pas-de-Calais"
    --on 2020-11-16 --amount "4 500,00\""""
    f = current_ctx().wf().funding.pay(programme, partner, on, amount)
    say(tr("payment of {amount!m} by {partner!q} on {on!d} recorded", amount=f.paid, partner=f.partner, on=on))


@funding.command(name="show", short_help="A programme's money, partner by partner.")
@_PROGRAMME
@json_option
def funding_show(programme, as_json) -> None:
    """A programme's money: the expenses, and for each partner its cap and share, what its share of the
    expenses covers, what it owes, what it paid, and the unused funds (to give back once it ended);
    agreements made terminable by a formal notice left unanswered for one month are flagged."""
    sheet = current_ctx().wf().funding.show(programme)
    if as_json:
        return emit_json(sheet)
    start, end = date.fromisoformat(sheet.takes_effect), date.fromisoformat(sheet.deadline)
    period = (N_("{programme!q}: agreement in effect from {start!d} to {end!d}, ended") if sheet.ended
              else N_("{programme!q}: agreement in effect from {start!d} to {end!d}"))
    say(tr(period, programme=sheet.programme, start=start, end=end))
    say(labelled(_("Expenses really incurred"), money(sheet.expenses) + " (" + tr(
        ngettext("{n} expense", "{n} expenses", sheet.expense_count), n=sheet.expense_count) + ")"))
    if not sheet.partners:
        say(tr("no funding is set for {programme!q} (preincub funding set)", programme=sheet.programme))
    else:
        last = _("To give back") if sheet.ended else _("Unused so far")
        t = table(_("Partner"), _("Payment"), _("Cap"), _("Share"), _("Share of expenses"), _("Owed"),
                  _("Statement"), _("Paid"), _("Paid on"), last)
        for i in (2, 4, 5, 7, 9):
            t.columns[i].justify = "right"
        for f in sheet.partners:
            t.add_row(f.partner, _(PAYMENT_LABELS[f.payment]), money(f.cap), percent(f.share), money(f.covered),
                      money(f.due), f.statement_on or "—", money(f.paid), f.paid_on or "—", money(f.unused))
        console().print(t)
        for f in sheet.partners:
            if f.give_back:
                say(tr("{partner!q} is to be given back {amount!m} of unused funds", partner=f.partner,
                       amount=f.unused))
    for n in sheet.terminable:
        say(tr("agreement with {partner!q} terminable since {day!d}: formal notice #{id} of {on!d} left unanswered",
               partner=n.partner, day=date.fromisoformat(n.terminable_on), id=n.id, on=date.fromisoformat(n.on)))


@click.group(short_help="The operator's expenses.")
def expense() -> None:
    """The operator's expenses really incurred for a programme."""


@expense.command(name="add", short_help="Record an expense.")
@_PROGRAMME
@click.option("--amount", type=AMOUNT, required=True, help="In euros (9000, 9 000, 9000,00).")
@click.option("--on", "on", type=DATE, required=True, help="The day it was incurred (YYYY-MM-DD).")
@click.option("--label", required=True, help="What it was.")
def expense_add(programme, amount, on, label) -> None:
    """Record an expense the operator really incurred for a programme, within its agreement's period.

    Example: preincub expense add --programme "Pré-incubation 2020" --amount "2 400" --on 2020-07-07
    --label "Séminaire de lancement\""""
    e = current_ctx().wf().funding.add_expense(programme, amount, on, label)
    say(tr("expense of {amount!m} on {on!d} recorded for {programme!q}: {label}", amount=e.amount, on=on,
           programme=e.programme, label=e.label))


@expense.command(name="list", short_help="List a programme's expenses.")
@_PROGRAMME
@json_option
def expense_list(programme, as_json) -> None:
    """List a programme's expenses, in date order, with their total."""
    rows = current_ctx().wf().funding.expenses(programme)
    if as_json:
        return emit_json(rows)
    if not rows:
        return say(tr("no expense recorded for {programme!q}", programme=programme))
    t = table(_("Date"), _("Expense"), _("Amount"))
    t.columns[2].justify = "right"
    for e in rows:
        t.add_row(e.on, e.label, money(e.amount))
    t.add_row("", _("Total"), money(sum((e.amount for e in rows), Decimal(0))))
    console().print(t)
