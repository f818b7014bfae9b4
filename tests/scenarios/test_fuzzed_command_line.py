"""Fuzzing the whole command line: whatever is typed, a clean answer, and a refusal changes nothing.

Hypothesis draws commands (every read and write command) with hostile arguments: markup, controls,
bidi overrides, undecodable bytes, 100 KB values, huge and negative numbers, impossible dates. A
fixed seed and a bounded number of examples keep it deterministic and under a minute.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from tests.cli_helpers import DEMO_TEAMS, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEAMS = sorted(DEMO_TEAMS)
EMAILS = ["camille.lefebvre@beta.example", "julien.moreau@beta.example", "aurelie.dupont@lenord.example",
          "nadia.perrin@beta.example", "marc.weber@grandest.example", "root@localhost"]

hostile = st.one_of(
    st.sampled_from(["[/]", "[bold red]x[/bold red]", "[link=https://evil.example]clic[/link]", ":smile:", "\\",
                     "\x1b[31mrouge", "\u202egnp.exe", "a\x00b", "\udcff\udcfe", "x" * 100_000, "", " ", "-", "--",
                     "--help", "'; DROP TABLE team; --", "<script>alert(1)</script>", "é" * 300, "\n", "%s%n"]),
    st.text(max_size=20),
)


def mix(values: list[str]) -> st.SearchStrategy:
    """Mostly a valid value (so commands get past parsing and reach the rules), sometimes a hostile one."""
    valid = st.sampled_from(values)
    return st.one_of(valid, valid, valid, hostile)


name = mix(TEAMS + ["Pré-incubation 2020", "FAST Trait d'union 2019", "Nord", "Grand Est"])
number = st.sampled_from(["0", "-1", "1", "1", "7", "2.5", "1e400", "nan", "-inf", "9223372036854775808",
                          "99999999999999999999999999", "abc", "1,5", "95", "3"])
day = st.sampled_from(["2020-11-16", "2020-11-12", "2020-11-16", "2020-02-30", "0001-01-01", "9999-12-31",
                       "2020-W46", "demain", "2020-11-16T25:00", "-1", "99999999-01-01", "2020-12-10"])
email = mix(EMAILS)
trigger = mix(["submit", "select", "reject", "present", "hear", "incubate", "decline", "abandon"])
yesno, party = mix(["yes", "no", "oui", "non"]), mix(["partner", "operator"])
role, phase = (mix(["coach", "coordinator", "intrapreneur", "sponsor", "committee", "admin", "partner"]),
               mix(["investigation", "selection"]))
granted = mix(["admin", "coordinator", "committee", "partner"])
kind, status = mix(["preincubation", "fast", "departement", "region"]), mix(["pending", "failed", "sent"])
lang_value = mix(["fr", "en"])


def opt(flag: str, value: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(()), value.map(lambda v: (flag, v)))


def cmd(*parts) -> st.SearchStrategy:
    """A command: fixed words, and strategies for arguments (each drawing a tuple or a string)."""
    def flatten(xs):
        out = []
        for x in xs:
            out.extend(x if isinstance(x, tuple) else (x,))
        return out
    return st.tuples(*(st.just(p) if isinstance(p, str) else p for p in parts)).map(flatten)


READS = [
    cmd("status", opt("--programme", name)), cmd("team", "list", opt("--programme", name), opt("--phase", phase)),
    cmd("team", "show", name), cmd("check", name), cmd("history", name),
    cmd("checkin", "list", opt("--team", name), opt("--coach", email), opt("--week", day), opt("--since", day)),
    cmd("checkin", "gaps", opt("--programme", name), opt("--weeks", number)),
    cmd("person", "list", opt("--role", role)), cmd("programme", "list"), cmd("programme", "show", name),
    cmd("person", "show", email),
    cmd("remind", "preview", opt("--until", day)), cmd("outbox", "list", opt("--status", status)),
    cmd("diagram", opt("--format", mix(["mermaid"]))),
]
WRITES = [
    cmd("programme", "add", name, opt("--signed-on", day), opt("--months", number), opt("--capacity", number),
        opt("--min-days-per-week", number), opt("--kind", kind), opt("--coordinator", email)),
    cmd("partner", "add", name, opt("--programme", name), opt("--kind", kind)),
    cmd("person", "add", name, opt("--email", email), opt("--role", role), opt("--lang", lang_value),
        opt("--programme", name), opt("--partner", name)),
    cmd("person", "edit", email, opt("--name", name), opt("--add-role", role), opt("--remove-role", role),
        opt("--programme", name), opt("--partner", name)),
    cmd("person", "grant", email, granted, opt("--programme", name), opt("--partner", name)),
    cmd("person", "revoke", email, granted, opt("--programme", name)),
    cmd("team", "add", name, opt("--programme", name), opt("--partner", name), opt("--problem", hostile),
        opt("--intrapreneur", email), opt("--days-per-week", number)),
    cmd("team", "edit", name, opt("--rename", name), opt("--coach", email), opt("--days-per-week", number),
        opt("--problem", hostile)),
    cmd("team", "assess", name, opt("--real", yesno), opt("--major", yesno), opt("--actionable", yesno),
        opt("--note", hostile)),
    cmd("team", "agree", name, opt("--party", party)),
    cmd("team", "poc", name, opt("--summary", hostile), opt("--link", hostile)),
    cmd("team", "committee", name, opt("--on", day), opt("--opinion", hostile)),
    cmd("advance", name, trigger, opt("--reason", hostile), st.sampled_from([(), ("--force",)])),
    cmd("checkin", "log", name, opt("--notes", hostile), opt("--hours", number), opt("--mood", number),
        opt("--on", day), st.sampled_from([(), ("--missed",)]), opt("--reason", hostile)),
    cmd("checkin", "edit", number, opt("--notes", hostile), opt("--hours", number), opt("--on", day)),
    cmd("outbox", "retry", number), cmd("outbox", "cancel", number),
]
actor = st.sampled_from([None, None, None, None, "camille.lefebvre@beta.example", "julien.moreau@beta.example",
                         "nadia.perrin@beta.example",
                         "nobody@nowhere.example", "pas-une-adresse", "x" * 100_000, "\udcff@x.example"])
lang = st.sampled_from([None, "en"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fuzz_db(demo_template, tmp_path_factory) -> Path:
    return Path(shutil.copy(demo_template, tmp_path_factory.mktemp("fuzz") / "demo.db"))


def FUZZ(max_examples: int):  # noqa: N802 - reads as the decorator it returns
    """A fixed seed (derandomize) and a bounded number of examples: the same run every time, in seconds."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def _check(db: Path, args: list[str], who: str | None, lg: str | None) -> None:
    before = sha256(db)
    r = invoke(*args, db=db, actor=who, lang=lg)
    out = r.stdout + r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), (args[:3], repr(r.exception))
    assert "Traceback" not in out and "internal error" not in r.stderr and "erreur interne" not in r.stderr, (
        args[:3], r.stderr)
    assert r.exit_code in (0, 1, 2, 3), (args[:3], r.exit_code, r.stderr)
    lines = r.stderr.splitlines()
    if r.exit_code != 0:
        assert len(lines) == 1 and lines[0].startswith("preincub: "), (args[:3], r.stderr[:500])
        assert len(lines[0]) <= 300, (args[:3], len(lines[0]))
        assert sha256(db) == before, (args[:3], "a refused command changed the store")
    else:
        assert len(lines) <= 1


@FUZZ(max_examples=150)
@given(args=st.one_of(*READS), who=actor, lg=lang)
def test_fuzz_read_commands(fuzz_db, args, who, lg):
    _check(fuzz_db, args, who, lg)


@FUZZ(max_examples=300)
@given(args=st.one_of(*WRITES), who=actor, lg=lang)
def test_fuzz_write_commands(fuzz_db, args, who, lg):
    _check(fuzz_db, args, who, lg)
