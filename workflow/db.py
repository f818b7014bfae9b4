"""Opening the store: where it lives, SQLite pragmas and write locks, and schema versions (Alembic)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from workflow.errors import ChangedMeanwhile, StoreError

# The newest schema this code knows, and every older one it can upgrade from (tests check both
# against the migration scripts). Kept as constants so opening a store needs no script parsing.
HEAD_REVISION = "0003"
KNOWN_REVISIONS = ("0001", "0002", "0003")

SQLITE_BUSY_TIMEOUT_S = 30


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("preincub", appauthor=False) / "preincub.db"


def resolve_url(db: str | None = None) -> str:
    """``--db`` / ``PREINCUB_DB``: a file path or a SQLAlchemy URL; default, a file in the user's data dir."""
    db = db or os.environ.get("PREINCUB_DB") or str(default_path())
    if "://" in db:
        if db.startswith("postgresql://"):  # the driver we ship
            db = "postgresql+psycopg://" + db[len("postgresql://"):]
        return db
    return "sqlite:///" + str(Path(db).expanduser().resolve())


def describe(url: str) -> str:
    """The store's location for messages, without any password."""
    u = sa.engine.make_url(url)
    return u.database or "" if u.get_backend_name() == "sqlite" else u.render_as_string(hide_password=True)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cur.execute("PRAGMA synchronous = NORMAL")  # WAL: commits survive a killed process without an fsync each
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Writers take the lock up front, so two writers queue instead of failing halfway.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("preincub_write") else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_setup(engine)
        return engine
    if url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError("PostgreSQL needs the driver: pip install 'preincub[postgres]'",
                             "PostgreSQL demande le pilote : pip install 'preincub[postgres]'") from None
    return sa.create_engine(url, pool_pre_ping=True)


def _state(engine: Engine) -> tuple[str, str | None]:
    """('empty'|'foreign'|'preincub', revision) of the database behind ``engine``."""
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        if "alembic_version" not in tables:
            return ("empty" if not tables else "foreign"), None
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return "preincub", rev


class Store:
    """A preincub database: sessions for reading, and for writing under a write lock."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = engine.execution_options(preincub_write=True)

    @property
    def where(self) -> str:
        return describe(self.url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed whole on success, rolled back whole on any error."""
        try:
            with Session(self._writer, expire_on_commit=False) as s:
                with s.begin():
                    yield s
        except IntegrityError as exc:
            if not _unique_violation(exc):
                raise
            # A unique key taken by a concurrent writer after we checked: a retry gives the real answer.
            raise ChangedMeanwhile(f"the store changed meanwhile ({_first_line(exc)}), retry",
                                   f"la base a changé entre-temps ({_first_line(exc)}), réessayez") from None
        except OperationalError as exc:
            if "locked" in str(exc.orig):
                raise ChangedMeanwhile("the store is busy (locked by another writer), retry",
                                       "la base est occupée (verrouillée par un autre écrivain), réessayez") from None
            raise

    @contextmanager
    def core_write(self) -> Iterator[sa.Connection]:
        """A Core connection in a write transaction: for small hot statements (no ORM session)."""
        with self._writer.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def _first_line(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _guard_errors(where: str, exc: Exception) -> StoreError:
    msg = _first_line(exc)
    if "not a database" in msg or "malformed" in msg:
        return StoreError(f"{where} is not a preincub store (not an SQLite database); choose another file with --db",
                          f"{where} n'est pas une base preincub (pas une base SQLite) ; choisissez un autre fichier avec --db")
    return StoreError(f"cannot open the store {where}: {msg}", f"impossible d'ouvrir la base {where} : {msg}")


def open_store(db: str | None = None, *, create: bool = False) -> Store:
    """Open the store and check its schema; ``create`` (``init``) creates or upgrades it.

    Without ``create``, a missing, empty, foreign, older or newer store is refused with what to do.
    """
    url = resolve_url(db)
    where = describe(url)
    if url.startswith("sqlite"):
        path = Path(sa.engine.make_url(url).database or "")
        if not path.exists():
            if not create:
                raise StoreError(f"no store at {where}; run 'preincub init' (or 'preincub demo') first",
                                 f"aucune base à {where} ; lancez d'abord 'preincub init' (ou 'preincub demo')")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {path.parent}: {exc.strerror}",
                                 f"impossible de créer {path.parent} : {exc.strerror}") from None
        elif path.is_dir():
            raise StoreError(f"{where} is a directory; give --db a file", f"{where} est un dossier ; donnez un fichier à --db")
    engine = make_engine(url)
    try:
        state, rev = _state(engine)
        if state == "foreign":
            raise StoreError(f"{where} holds tables that are not preincub's; choose another database with --db",
                             f"{where} contient des tables étrangères à preincub ; choisissez une autre base avec --db")
        if rev is not None and rev not in KNOWN_REVISIONS:
            raise StoreError(f"the store {where} was written by a newer preincub (schema {rev}); upgrade preincub",
                             f"la base {where} vient d'une version plus récente de preincub (schéma {rev}) ; mettez preincub à jour")
        if create:
            if rev != HEAD_REVISION:
                upgrade(engine)
        elif state == "empty":
            raise StoreError(f"the store {where} is empty; run 'preincub init' first",
                             f"la base {where} est vide ; lancez d'abord 'preincub init'")
        elif rev != HEAD_REVISION:
            raise StoreError(f"the store {where} has an older schema ({rev}); run 'preincub init' to upgrade it",
                             f"la base {where} a un schéma plus ancien ({rev}) ; lancez 'preincub init' pour la mettre à jour")
    except StoreError:
        engine.dispose()
        raise
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise _guard_errors(where, exc) from None
    return Store(url, engine)


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "workflow:migrations")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
