"""French elision, done once where a value is filled into a sentence (notifications.i18n.text): "Échéance
de {programme}" reads "Échéance d'Essai 2020" but "Échéance de Nord 2020"; English is never touched."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.i18n import ASPIRATED_H, NOT_ELIDED, elides_before, text

WORDS = {"de": "d'", "De": "D'", "que": "qu'", "jusque": "jusqu'", "lorsque": "lorsqu'", "puisque": "puisqu'",
         "le": "l'", "la": "l'", "Le": "L'", "La": "L'"}
LETTERS = "abcdefghijklmnopqrstuvwxyzéèàçôî"
VOWELS = "aeiouAEIOUéÉèÈêÊëàÀâÂîÎïôÔöùûÙüœŒæ"
CONSONANTS = "bcdfgjklmnpqrstvwxzBCDFGJKLMNPQRSTVWXZçÇ"

def _first_word(value: str) -> str:
    return re.match(r"[^\W\d_]*", value).group().lower()


vowel_first = st.builds(lambda a, b: a + b, st.sampled_from(VOWELS), st.text(LETTERS + " -", max_size=12)).filter(
    lambda v: _first_word(v) not in NOT_ELIDED)
mute_h_first = st.builds(lambda h, v: h + v, st.sampled_from("hH"), vowel_first).filter(
    lambda v: _first_word(v) not in ASPIRATED_H)
consonant_first = st.builds(lambda a, b: a + b, st.sampled_from(CONSONANTS), st.text(LETTERS + " -", max_size=12))
other_first = st.builds(lambda a, b: a + b, st.sampled_from("0123456789'\"« -–_.([#@\u00a0\t"),
                        st.text(LETTERS, max_size=12))


@pytest.mark.parametrize("message, value, fr, en", [
    ("Deadline of {programme}", "Essai 2020", "Échéance d'Essai 2020", "Deadline of Essai 2020"),
    ("Deadline of {programme}", "Nord 2020", "Échéance de Nord 2020", "Deadline of Nord 2020"),
    ("Phases of {team}", "Insertion RSA", "Phases d'Insertion RSA", "Phases of Insertion RSA"),
    ("Phases of {team}", "Écoles numériques", "Phases d'Écoles numériques", "Phases of Écoles numériques"),
    ("Phases of {team}", "Hébergement d'urgence", "Phases d'Hébergement d'urgence", None),
    ("Phases of {team}", "Haute-Saône", "Phases de Haute-Saône", None),
    ("Phases of {team}", "Hauts-de-France", "Phases de Hauts-de-France", None),
    ("Phases of {team}", "Havre numérique", "Phases de Havre numérique", None),
    ("Phases of {team}", "hameau connecté", "Phases de hameau connecté", None),
    ("Phases of {team}", "Yvelines", "Phases d'Yvelines", None),
    ("Phases of {team}", "Yaourts du collège", "Phases de Yaourts du collège", None),
    ("Phases of {team}", "Onze collèges", "Phases de Onze collèges", None),
    ("Phases of {team}", "2020 Essai", "Phases de 2020 Essai", None),
])
def test_through_the_catalog_in_french_and_english(message, value, fr, en):
    params = {"programme": value, "team": value}
    assert text("fr", message, params) == fr
    assert text("en", message, params) == (en or message.replace("{team}", value).replace("{programme}", value))


def test_the_words_that_elide():
    assert text("fr", "{n} validé par {x}, que {actor} a relu", {"n": "1", "x": "Alice", "actor": "Inès"}) == \
        "1 validé par Alice, qu'Inès a relu"
    assert text("fr", "jusque {x}; lorsque {x}; puisque {x}", {"x": "Orléans"}) == \
        "jusqu'Orléans; lorsqu'Orléans; puisqu'Orléans"
    assert text("fr", "le {role}, la {phase}; Le {x}", {"role": "intrapreneur", "phase": "investigation",
                                                        "x": "Essai"}) == "l'intrapreneur, l'investigation; L'Essai"
    # An accent typed as a combining mark (NFD) is still the vowel's; the value is kept as typed.
    assert text("fr", "de {x}; de {y}", {"x": "E\u0301cole", "y": "he\u0301ros"}) == "d'E\u0301cole; de he\u0301ros"
    # The catalog's dates after "le": a digit, never elided ("le 1er octobre 2020").
    from datetime import date
    assert text("fr", "le {on!d}", {"on": date(2020, 10, 1)}) == "le 1er octobre 2020"


def test_a_quoted_value_is_not_elided():
    """``{x!q}`` starts with a quote, not a vowel: "de 'Essai'" stays as it is."""
    assert text("fr", "la convention de {programme!q}", {"programme": "Essai"}) == "la convention de 'Essai'"
    assert text("fr", "Deadline of {programme}", {"programme": "'Essai'"}) == "Échéance de 'Essai'"


def test_only_a_whole_fixed_word_just_before_the_placeholder():
    """"modèle {x}" ends in "le" but is not "le"; a word inside a value is the user's, never changed;
    "de" followed by anything but one plain space and the placeholder is left alone."""
    assert text("fr", "modèle {x}, aujourd'hui-de {x}", {"x": "Essai"}) == "modèle Essai, aujourd'hui-de Essai"
    assert text("fr", "{a}{b}", {"a": "Maison de ", "b": "Essai"}) == "Maison de Essai"
    assert text("fr", "{a}de {b}", {"a": "x", "b": "Essai"}) == "xde Essai"
    assert text("fr", "de  {x}, de\u00a0{x}, de ({x})", {"x": "Essai"}) == "de  Essai, de\u00a0Essai, de (Essai)"


def test_the_aspirated_h_list_is_lowercase_words():
    assert all(w == w.lower() and w.isalpha() and w.startswith("h") for w in ASPIRATED_H)
    assert {"haute", "hauts", "havre", "hameau"} <= ASPIRATED_H
    assert not elides_before("Hauts-de-France") and elides_before("Hérault") and elides_before("hôpital")


@given(word=st.sampled_from(sorted(WORDS)), value=st.text(max_size=30))
def test_english_is_never_elided_and_french_only_at_the_word(word, value):
    message = f"Échéance {word} {{x}}"
    assert text("en", message, {"x": value}) == f"Échéance {word} {value}"
    fr = text("fr", message, {"x": value})
    assert fr in (f"Échéance {word} {value}", f"Échéance {WORDS[word]}{value}")
    assert (fr == f"Échéance {WORDS[word]}{value}") == elides_before(value)


@given(word=st.sampled_from(sorted(WORDS)), value=st.one_of(vowel_first, mute_h_first))
def test_before_a_vowel_or_a_mute_h_french_elides(word, value):
    assert text("fr", f"{word} {{x}}", {"x": value}) == WORDS[word] + value
    assert text("en", f"{word} {{x}}", {"x": value}) == f"{word} {value}"


@given(word=st.sampled_from(sorted(WORDS)), value=st.one_of(consonant_first, other_first))
def test_before_anything_else_french_does_not(word, value):
    assert text("fr", f"{word} {{x}}", {"x": value}) == f"{word} {value}"


@given(word=st.sampled_from(sorted(WORDS)), value=st.text(max_size=30))
def test_a_quoted_value_never_is(word, value):
    assert text("fr", f"{word} {{x!q}}", {"x": value}).startswith(f"{word} ")


@given(value=st.sampled_from(sorted(ASPIRATED_H)), rest=st.sampled_from(["", "-de-France", " numérique", "s"]))
def test_an_aspirated_h_is_not_elided(value, rest):
    shown = value.capitalize() + rest
    if rest == "s" and shown.lower() not in ASPIRATED_H:
        return  # "huits" is no word of the list: its first word is looked up as it is
    assert text("fr", "de {x}", {"x": shown}) == f"de {shown}"


@pytest.mark.parametrize("lang,partner,expected", [
    ("fr", "Essonne", "à l'intention d'Essonne, 50 %"), ("fr", "Nord", "à l'intention de Nord, 50 %"),
    ("fr", "Haute-Saône", "à l'intention de Haute-Saône, 50 %"), ("en", "Essonne", "à l'intention de Essonne, 50 %")])
def test_a_template_sentence_elides_as_text_does(lang, partner, expected):
    """The messages' and documents' {% trans %} sentences are filled by the same formatter as text()."""
    from notifications.render import new_environment

    page = new_environment(lang).from_string(
        "{% trans partner=partner %}à l'intention de {{ partner }}, 50 %{% endtrans %}")
    assert page.render(partner=partner) == expected


def test_a_template_sentence_escapes_the_values_where_the_template_does():
    from notifications.render import new_environment

    env = new_environment("fr")
    env.autoescape = False
    source = "{% trans name=name %}Échéance de {{ name }}{% endtrans %}"
    assert env.from_string(source).render(name="<b>Ours</b>") == "Échéance de <b>Ours</b>"  # a text template
    env.autoescape = True
    assert env.from_string(source).render(name="<i>Essai</i>") == "Échéance de &lt;i&gt;Essai&lt;/i&gt;"
    assert env.from_string(source).render(name="Essai & co") == "Échéance d'Essai &amp; co"
    count = "{% trans n=n %}{{ n }} jour de {{ name }}{% pluralize %}{{ n }} jours de {{ name }}{% endtrans %}"
    assert env.from_string(count).render(n=2, name="Orne") == "2 jours d'Orne"
