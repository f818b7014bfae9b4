"""SQLite file copies at the store level: URLs of any file name, a consistent copy of a live store, the
copy's schema revision and signature, leases released, a checked copy installed into a store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import paris
from workflow.api import Workflow
from workflow.store import copies, lease
from workflow.store.engine import HEAD_REVISION, make_engine, open_store

T0 = paris(2020, 7, 6, 9, 0)


def empty(path: Path) -> Path:
    """The file a copy goes into: made beforehand, as the backup makes its temporary file."""
    path.touch()
    return path


@pytest.fixture
def live(tmp_path) -> Path:
    """A store file with its first coordinator, held open by a Workflow while the test runs."""
    path = tmp_path / "store.db"
    w = Workflow.open(copies.url_of(path), create=True)
    w.directory.add_person("Coach Un", "coach@example.org", ["coach"])
    yield path
    w.close()


def test_url_of_any_file_name_and_read_only_urls(tmp_path):
    odd = tmp_path / "a?b#c%d.db"
    assert copies.url_of(odd).endswith("/a%3Fb%23c%25d.db")
    store = open_store(copies.url_of(odd), create=True)
    store.close()
    assert odd.exists()
    assert copies.read_only_url("sqlite:///x.db?mode=ro")
    assert not copies.read_only_url("sqlite:///x.db")


def test_a_copy_of_a_live_store_is_one_file_at_the_head_revision(live, tmp_path):
    copy = empty(tmp_path / "copy.db")
    copies.copy(live, copy)
    assert copies.revision(copy) == HEAD_REVISION
    assert not any(Path(f"{copy}{s}").exists() for s in copies.SIDE_FILES)
    assert copies.checked_copy(live, empty(tmp_path / "checked.db")) == ["ok"]
    assert copies.revision(empty(tmp_path / "nothing.db")) is None  # an empty file: no preincub store


def test_a_copy_of_what_is_not_a_database_fails(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(copies.Failed):
        copies.copy(junk, empty(tmp_path / "copy.db"))
    copies.keep_copy(junk, tmp_path / "kept.db")  # the bytes, as they are
    assert (tmp_path / "kept.db").read_bytes() == junk.read_bytes()


def test_sign_then_read_the_signature_then_unsign(live, tmp_path):
    copy = empty(tmp_path / "copy.db")
    copies.copy(live, copy)
    engine = make_engine(copies.url_of(copy))
    try:
        with Session(engine) as s:
            assert copies.signature(s) is None
        copies.sign(copy, "abc")
        with Session(engine) as s:
            assert copies.signature(s) == [("hmac-sha256", "abc")]
            copies.unsign(s)
            s.commit()
        with Session(engine) as s:
            assert copies.signature(s) is None
    finally:
        engine.dispose()


def test_release_leases_ends_those_held_beyond_a_time(wf):
    with wf.store.write() as s:
        lease.take(s, wf.store.dialect, "a", T0, T0 + timedelta(hours=1))
    with wf.store.write() as s:
        copies.release_leases(s, T0 + timedelta(minutes=1), "other")  # not that lease's name
    with wf.store.read() as s:
        assert lease.get(s).until == T0 + timedelta(hours=1)
    with wf.store.write() as s:
        copies.release_leases(s, T0 + timedelta(minutes=1))
    with wf.store.read() as s:
        assert lease.get(s).until == T0 + timedelta(minutes=1)


def test_install_writes_the_copy_into_the_store(live, tmp_path):
    copy = empty(tmp_path / "copy.db")
    copies.copy(live, copy)
    other = tmp_path / "other.db"
    w = Workflow.open(copies.url_of(other), create=True)
    w.close()
    copies.install(copy, other)
    w = Workflow.open(copies.url_of(other))
    try:
        assert [p.email for p in w.directory.people("coach")] == ["coach@example.org"]
    finally:
        w.close()
