"""Compiled message shapes: the same bytes as jinja's render for every value (hypothesis), the common
shapes really compiled, and the ones the compiler cannot follow left to jinja."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from jinja2 import UndefinedError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from notifications import compiled
from notifications.compiled import fill, render_compiled
from notifications.render import Footer, render
from workflow.rules import due

# Values that test what the compiler relies on: elision (vowels, mute and aspirated h, y, "onze"), markup,
# shell quoting, links and the starts of their scheme, whitespace at an edge, newlines, format and
# template characters, the compiler's own private-use characters, French quotes and apostrophes.
WORDS = ["Essai", "essai", "Hérault", "Haute-Saône", "hameau", "Yvelines", "yaourt", "Onze", "Œuvre", "Ïle",
         "Équipe d'Essai", "L'Oréal", "aujourd’hui", "R&D", "<script>alert(1)</script>", "[lien](x)", "a & b",
         'dit "oui"', "C'est", "x!y", "$HOME", "`ls`", "back\\slash", "{team}", "%(team)s", "100 %", "{{ x }}",
         "https://x.example/a?b=1&c=<2>", "http://h.example", "https://", "http", "h", "ht", "https:/",
         "ftp://x", "  indented", "trailing ", "\ttab", "a\nb", "\n", "", " ", "\u00a0", "x\u00a0", "é",
         "e\u0301cole", "\ue000", "\ue0001\ue001", "1er", "2020-W41", "Nord 2020", "Île-de-France", "ÉCOLE",
         "    preincub", "-- ", "é\r", "x\x0b"]
text = st.one_of(st.sampled_from(WORDS),
                 st.text(st.sampled_from(list("aeiouyhHÉéœ'’ -&<>\"![]$`\\{}%\n\t\u00a0\ue000xz0")), max_size=6),
                 st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join))
optional = st.one_of(st.none(), text)
count = st.sampled_from([0, 1, 2, 21, -1, 7, 1000, 12345])
day = st.dates().map(lambda d: d.isoformat())
names = st.lists(text, max_size=3)


def context_of(kind: str) -> st.SearchStrategy[dict]:
    """A context as workflow.rules.due and the reminders service make them for ``kind``, with hostile values
    and each optional part present or not."""
    common = {"name": text, "cli": st.booleans()}
    extra = st.fixed_dictionaries({}, optional={"email": text, "board_url": text})
    own = {
        "coaching": st.fixed_dictionaries(
            {"team": text, "programme": text, "last_checkin": st.none() | day, "days_left": count, "week": text},
            optional={"checkin_url": text, "reply_address": st.booleans(),
                      "reply_labels": st.fixed_dictionaries({k: text for k in ("hours", "blockers", "next_steps",
                                                                                  "mood")}),
                      "reply_colon": st.sampled_from([" : ", ": ", ":"])}),
        "missed_coaching": st.fixed_dictionaries({"team": text, "programme": text, "last_checkin": st.none() | day,
                                                  "days_left": count, "week": text, "weeks": names}),
        "deadline": st.fixed_dictionaries({"programme": text, "deadline": day, "days_left": count,
                                           "undecided": names}),
        "deadline_passed": st.fixed_dictionaries({"programme": text, "deadline": day, "days_late": count,
                                                  "undecided": names}),
        "committee_soon": st.fixed_dictionaries({"team": text, "programme": text, "committee_on": day,
                                                 "days_left": count}, optional={"committee_url": text}),
        "notice_terminable": st.fixed_dictionaries({"id": count, "programme": text, "partner": text, "on": day,
                                                    "terminable_on": day, "breach": text}),
    }[kind]
    return st.tuples(own, st.fixed_dictionaries(common), extra).map(lambda t: {**t[0], **t[1], **t[2]})


ROLES = ["coach", "intrapreneur", "partner", "committee", "coordinator"]


def footer_of(kind: str) -> st.SearchStrategy[Footer | None]:
    """None, or a footer of any role, mutable or not, each optional part given or not."""
    return st.none() | st.builds(Footer, st.just(kind), st.sampled_from(ROLES), text, optional, st.booleans(),
                                 optional, optional)


def outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the two ways must fail alike
        return type(exc)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", due.REMINDER_KINDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_shapes_give_jinja_s_bytes(kind, lang, data):
    context = data.draw(context_of(kind), "context")
    footer = data.draw(footer_of(kind), "footer")
    assert outcome(render_compiled, kind, lang, context, footer) == outcome(render, kind, lang, context, footer)
    event("compiled" if outcome(fill, kind, lang, context, footer) not in (None, TypeError, UndefinedError)
          else "left to jinja")


def test_a_shape_s_variants_follow_french_elision():
    """The same shape with values that elide and values that do not: each gets its own variant."""
    ctx = {"programme": "P", "deadline": "2020-12-23", "days_left": 7, "undecided": ["A"], "name": "N", "cli": True}
    for team, programme in [("Essai", "Essonne"), ("Nord", "Somme"), ("Hérault", "Haute-Saône"), ("Onze", "Yvelines")]:
        footer = Footer("deadline", "coach", programme, team)
        for lang in ("fr", "en"):
            got = fill("deadline", lang, {**ctx, "programme": programme}, footer)
            assert got is not None and got == render("deadline", lang, {**ctx, "programme": programme}, footer)


def weekly(**extra) -> tuple[dict, Footer]:
    ctx = {"team": "Équipe 12", "programme": "Pré-incubation 2020", "last_checkin": "2020-09-28", "days_left": 79,
           "week": "2020-W41", "cli": True, "name": "Coach Un", "email": "coach@example.org", **extra}
    return ctx, Footer("coaching", "coach", ctx["programme"], ctx["team"], True,
                       "https://p.example/mute/abc", None)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_weekly_reminder_s_common_shapes_are_compiled(lang):
    """What a tick renders ~10,000 times is compiled: with or without the form's link, a reply address, a last
    check-in, hostile names; so a change that makes them fall back to jinja is caught here."""
    replying = {"reply_address": True, "reply_labels": {"hours": "Heures", "blockers": "Blocages",
                                                        "next_steps": "Suite", "mood": "Humeur"}, "reply_colon": " : "}
    for extra in ({}, {"checkin_url": "https://p.example/c/1"}, replying, {"last_checkin": None},
                  {"team": "L'Équipe <b>&</b> \"x\" $y!", "name": "Inès d'Arc"}):
        ctx, footer = weekly(**extra)
        got = fill("coaching", lang, ctx, footer)
        assert got is not None, extra
        assert got == render("coaching", lang, ctx, footer)


def test_a_value_the_compiler_does_not_substitute_goes_to_jinja():
    for team in ("a\nb", "", "   ", "h", "http"):
        ctx, footer = weekly(team=team)
        assert fill("coaching", "fr", ctx, footer) is None
        assert render_compiled("coaching", "fr", ctx, footer) == render("coaching", "fr", ctx, footer)


def test_a_value_with_whitespace_at_an_edge_is_compiled_where_no_strip_reaches_it():
    for values in ({"programme": " P "}, {"name": " Coach\t"}):  # "(programme  P , en…", "Bonjour  Coach\t,"
        ctx, footer = weekly(**values)
        assert fill("coaching", "fr", ctx, footer) == render("coaching", "fr", ctx, footer)
    # At the end of the subject (stripped), at the start of a line (a paragraph of its own: a strip, or "    "
    # making it a command): jinja renders it.
    for values in ({"team": "Équipe "}, {"checkin_url": " https://p.example/c/1"}):
        ctx, footer = weekly(**values)
        assert fill("coaching", "fr", ctx, footer) is None
        assert render_compiled("coaching", "fr", ctx, footer) == render("coaching", "fr", ctx, footer)


TEMPLATES = {
    "compare": "{% if team == 'x' %}X{% endif %}{{ team }}\n",
    "method": "{{ team.upper() }}\n",
    "filter": "{{ team | upper }}\n",
    "arithmetic": "{{ days_left + 1 }}\n",
    "loop": "{% for c in team %}{{ c }}{% endfor %}\n",
    "slice": "{{ team[1:] }}\n",
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_template_doing_more_than_printing_values_is_not_followed(name):
    from jinja2 import DictLoader, Environment

    env = Environment(loader=DictLoader({"k.txt": TEMPLATES[name]}), extensions=["jinja2.ext.i18n"])
    env.filters["sh"] = lambda v: v
    assert compiled._followable(env, "k") is None


def test_every_reminder_template_is_followed():
    from notifications.render import environment

    for kind in due.REMINDER_KINDS:
        for lang in ("fr", "en"):
            assert compiled._followable(environment(lang), kind) is not None, kind


ELIDING = ("{% trans %}Échéance de {{ programme }} : {{ team }}{% endtrans +%}\n"
           "{% trans %}Bonjour {{ name }}, le rappel de {{ team }} puisque {{ partner }} le veut, "
           "jusque {{ programme }}.{% endtrans +%}\n\n"
           "    preincub check {{ team | sh }}\n")


@pytest.fixture
def eliding(monkeypatch):
    """The compiler over a template whose French elides before values ("de Nord", "d'Essai"): none of the
    reminders' templates has one today, so the variants are tested on this one."""
    from jinja2 import ChoiceLoader, DictLoader

    from notifications import render as rendering

    envs: dict[str, object] = {}

    def env_of(lang, fresh=False):
        if fresh or lang not in envs:
            env = rendering.new_environment(lang)
            env.loader = ChoiceLoader([DictLoader({"eliding.txt": ELIDING}), env.loader])
            env.filters.update({k: rendering.environment(lang).filters[k] for k in ("sh", "day")})
            if fresh:
                return env
            envs[lang] = env
        return envs[lang]

    monkeypatch.setattr(compiled, "environment", env_of)
    monkeypatch.setattr(compiled, "new_environment", lambda lang: env_of(lang, fresh=True))
    monkeypatch.setattr(compiled, "render", lambda kind, lang, context, footer=None:
                        rendering.render_in(env_of(lang), kind, lang, context, footer))
    monkeypatch.setattr(compiled, "_PROBE_ENVS", {})
    monkeypatch.setattr(compiled, "_SHAPES", {})
    return lambda kind, lang, context, footer=None: rendering.render_in(env_of(lang), kind, lang, context, footer)


def test_elision_before_values_picks_each_message_s_variant(eliding):
    words = ["Essai", "Nord", "Hérault", "Haute-Saône", "Yvelines", "yaourt", "Onze", "Œuvre", "1er", "Ïle"]
    for lang in ("fr", "en"):
        for team in words:
            for programme in words[::3]:
                ctx = {"programme": programme, "team": team, "name": "N", "partner": team}
                assert fill("eliding", lang, ctx) == eliding("eliding", lang, ctx), (lang, team, programme)
    shape = next(s for s in compiled._shapes("fr").values() if s is not None)
    assert {shape.slots[i] for i in shape.sensitive} == {("ctx", "programme"), ("ctx", "team"), ("ctx", "partner")}
    assert len(shape.variants) > 2
    assert fill("eliding", "fr", {"programme": "Essai", "team": "Nord", "name": "N", "partner": "Onze"}) == (
        "Échéance d'Essai : Nord",
        "Bonjour N, le rappel de Nord puisque Onze le veut, jusqu'Essai.\n\n    preincub check \"Nord\"\n", ANY)
