"""List, search and dashboard latency with 24 states and 200,000 shared items, on SQLite and PostgreSQL.

Seeds the founding register, one point of contact per state, and ITEMS items in bulk (SQLAlchemy
Core executemany: items, named audiences, threat categories, the FTS5 index on SQLite and
search_text on both), then times pages through the Flask test client as an officer of one
state (DK): the denial and threat-notice lists, a deep page, filtered lists, searches, the API
list and the home dashboard. Prints median and p95 per request.

Then replays each request's list SQL (the filtered, ordered, limited page query, the capped
count and the page's rows, exactly as sent to the driver) through the bare DB-API connection and prints its time
and the page/bare ratio after the page columns: what the ORM, Flask and templates add.

Usage: .venv/bin/python bench/listing.py [ITEMS | --items N] [--repeat N] [--backend sqlite|postgresql|all]
       e.g. bench/listing.py 20000 --repeat 10 for a quick look, --items 1000000 --backend postgresql.
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command
from sqlalchemy import bindparam, event, insert, text, update

from portal import create_app
from portal.auth import sessions
from portal.cli import alembic_config
from portal.countries.register import FOUNDING_STATES
from portal.countries.service import seed_register
from portal.extensions import db
from portal.models import Item, ItemAudienceCountry, ItemCategory, Role, User, UserStatus
from portal.models.base import utcnow
from portal.kinds import DOCUMENT_CATEGORIES, THREAT_CATEGORIES
from portal.sharing.search import ITEM_KEYS, item_fts
from tests.pg import PostgresServer

CODES = [code for code, _ in FOUNDING_STATES]
VIEWER_STATE = "DK"
BATCH = 5_000
# Filler text from a few thousand made-up words, plus topic words at realistic rates: a
# common one ("spyware") in about one item in six, a phrase ("facial recognition") in one in
# thirty, a rare name in a handful.
SYLLABLES = ["ka", "lo", "mi", "ten", "sar", "vel", "dor", "pin",
             "tra", "mos", "eli", "qua", "rin", "sto", "gal", "fen"]
FILLER = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:8]})
TOPICS = [("spyware", 0.16), ("surveillance", 0.12), ("interception", 0.08), ("biometric", 0.05),
          ("facial recognition", 0.035), ("drone", 0.03), ("forensic", 0.03)]
RARE = "quillfeather"  # in a handful of items only


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(FILLER) for _ in range(n)]
    words += [topic for topic, rate in TOPICS if rng.random() < rate / 8]
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def make_rows(offset: int, count: int, authors: dict[str | None, uuid.UUID]) -> tuple[list[dict[str, Any]], ...]:
    """Items offset..offset+count: rows for items, named audiences, categories and FTS, with a
    realistic mix of kinds, TLPs and audiences (most to all subscribing states, some named, some RED)."""
    rng = random.Random(offset)
    now = utcnow()
    items, named, categories, fts = [], [], [], []
    for n in range(offset, offset + count):
        item_id = uuid.uuid4()
        kind = rng.choices(("denial", "threat_notice", "document"), (50, 35, 15))[0]
        originator = None if kind == "document" and rng.random() < 0.1 else rng.choice(CODES)
        status = rng.choices(("published", "withdrawn", "draft", "submitted"), (90, 4, 5, 1))[0]
        tlp = rng.choices(("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"), (10, 35, 35, 10, 10))[0]
        audience: list[str] = []
        all_subscribing = tlp != "RED" and rng.random() < 0.75
        if not all_subscribing:
            audience = rng.sample([c for c in CODES if c != originator], rng.randint(1, 4))
        observers = tlp in ("CLEAR", "GREEN") and rng.random() < 0.3
        published = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        live = status in ("published", "withdrawn")
        title = sentence(rng, 6) + (f" {RARE}" if n % 20_000 == 0 else "")
        summary, body = sentence(rng, 20), "\n\n".join(sentence(rng, 40) for _ in range(3))
        details: dict[str, Any]
        row_categories: list[str] = []
        if kind == "denial":
            details = {"national_ref": f"{originator}-{n:07d}", "decision_type": "denial", "activity": "export",
                       "decision_date": (published.date() - timedelta(days=30)).isoformat(), "basis": "listed_item",
                       "control_entries": [{"regime": "Wassenaar", "code": "5A001.j"}],
                       "item_description": sentence(rng, 8), "destination": "MM", "end_use": sentence(rng, 6),
                       "parties": [{"role": "end_user", "name": sentence(rng, 3), "aliases": [], "address": "",
                                    "country": "MM"}],
                       "reason_codes": ["internal_repression"], "rationale": sentence(rng, 12)}
        elif kind == "threat_notice":
            row_categories = rng.sample(sorted(THREAT_CATEGORIES), rng.randint(1, 3))
            details = {"severity": rng.choice(("low", "medium", "high", "critical")), "categories": row_categories,
                       "regions": ["MM"], "entities": [sentence(rng, 2)], "valid_until": None}
        else:
            details = {"category": rng.choice(sorted(DOCUMENT_CATEGORIES))}
        search_text = "\n".join([title, summary, body] + [str(v) for v in details.values() if isinstance(v, str)])
        if status == "withdrawn":
            search_text = f"{title}\nWithdrawn: superseded."
        items.append({
            "id": item_id, "kind": kind, "status": status, "originator_code": originator,
            "created_by_id": authors[originator], "tlp": tlp, "all_subscribing": all_subscribing,
            "to_secretariat": rng.random() < 0.2, "to_observers": observers, "title": title, "summary": summary,
            "body": body, "details": details, "search_text": search_text, "version": 1 if live else 0,
            "severity": details.get("severity"), "category": details.get("category"),
            "national_ref": details.get("national_ref"),
            "denial_status": ("active" if rng.random() < 0.8 else "revoked") if kind == "denial" and live else None,
            "review_date": (published.date() + timedelta(days=3 * 365)) if kind == "denial" and live else None,
            "created_at": published - timedelta(days=1), "updated_at": published,
            "submitted_at": None, "published_at": published if live else None,
            "withdrawn_at": published + timedelta(days=2) if status == "withdrawn" else None,
            "withdrawal_reason": "Superseded." if status == "withdrawn" else None,
        })
        named += [{"item_id": item_id, "country_code": c} for c in audience]
        categories += [{"item_id": item_id, "slug": s} for s in row_categories]
        fts.append({"rowid": n + 1, "item_id": item_id, "content": search_text})
    return items, named, categories, fts


def seed(app: Any, count: int) -> uuid.UUID:
    """Register, users, items. Returns the viewer's id (an officer of VIEWER_STATE)."""
    with app.app_context():
        seed_register(db.session)
        users = [{"id": uuid.uuid4(), "email": f"spoc.{c.lower()}@bench.example", "name": f"SPOC {c}",
                  "role": Role.SPOC, "country_code": c} for c in CODES]
        users.append({"id": uuid.uuid4(), "email": "secretariat@bench.example", "name": "Secretariat",
                      "role": Role.SECRETARIAT, "country_code": None})
        viewer = {"id": uuid.uuid4(), "email": "officer.dk@bench.example", "name": "Officer DK",
                  "role": Role.OFFICER, "country_code": VIEWER_STATE}
        for row in [*users, viewer]:
            row.update(status=UserStatus.ACTIVE, is_designated_poc=False, failed_logins=0, created_at=utcnow(),
                       totp_enrolled_at=utcnow())
        db.session.execute(insert(User), [*users, viewer])
        db.session.commit()
        authors = {row["country_code"]: row["id"] for row in users}
        engine = app.extensions["portal.db"]
        sqlite = engine.dialect.name == "sqlite"
        started = time.perf_counter()
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            items, named, categories, fts = make_rows(done, size, authors)
            with engine.begin() as conn:
                conn.execute(insert(Item.__table__), items)
                if named:
                    conn.execute(insert(ItemAudienceCountry.__table__), named)
                if categories:
                    conn.execute(insert(ItemCategory.__table__), categories)
                if sqlite:  # the FTS row and the item's key to it (portal.sharing.search.index_item)
                    conn.execute(insert(item_fts), fts)
                    conn.execute(update(ITEM_KEYS).where(ITEM_KEYS.c.id == bindparam("b_id"))
                                 .values(search_key=bindparam("b_key")),
                                 [{"b_id": row["item_id"], "b_key": row["rowid"]} for row in fts])
            done += size
            print(f"\r  seeded {done:,}/{count:,} items ({time.perf_counter() - started:.0f} s)", end="", flush=True)
        # What a running database's autovacuum does after a bulk load: statistics for the planner,
        # and on PostgreSQL the visibility map, without which no index-only scan skips the table.
        upkeep = "ANALYZE" if sqlite else "VACUUM ANALYZE"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(upkeep))
        print(f"\r  seeded {count:,} items in {time.perf_counter() - started:.0f} s (then {upkeep})     ")
        db.session.remove()
    return viewer["id"]


def signed_in_client(app: Any, user_id: uuid.UUID) -> Any:
    client = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        token = sessions.start(db.session, user, utcnow(), "127.0.0.1", "bench")
        db.session.commit()
        db.session.remove()
    with client.session_transaction() as session:
        session["sid"], session["_user_id"], session["_fresh"] = token, str(user_id), True
    return client


REQUESTS = [
    ("list denials", "/denials/", {}),
    ("list threat notices", "/threat-notices/", {}),
    ("list denials, page 200", "/denials/", {"page": 200}),
    ("list denials, state=NO tlp=AMBER", "/denials/", {"state": "NO", "tlp": "AMBER"}),
    ("list notices, category", "/threat-notices/", {"category": "biometrics"}),
    ("search 'spyware' (1 in 6 items)", "/search", {"q": "spyware"}),
    ("search 'facial recognition'", "/search", {"q": "facial recognition"}),
    (f"search '{RARE}' (rare)", "/search", {"q": RARE}),
    ("API list denials", "/api/v1/denials", {}),
    ("home dashboard", "/", {}),
]


def capture_sql(app: Any, client: Any, url: str, params: dict[str, Any],
                headers: dict[str, str]) -> list[tuple[str, Any]]:
    """The SQL that reads one request's list: every SELECT from the items tables (the filtered,
    ordered, limited page of ids, the capped count, the page's rows by id and what they carry:
    audiences, categories; the FTS5 table on SQLite), and the planner settings a search's count
    runs under on PostgreSQL. Not the session, user, bell or country lookups every page makes."""
    captured: list[tuple[str, Any]] = []
    page_tables = re.compile(r"\bfrom (items|item_fts|item_audience_countries|item_categories)\b")

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        lowered = " ".join(statement.lower().split())
        if not lowered.startswith("select"):
            return
        if page_tables.search(lowered) or "set_config(" in lowered or "current_setting(" in lowered:
            captured.append((statement, parameters))

    engine = app.extensions["portal.db"]
    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert client.get(url, query_string=params, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return captured


def time_bare(app: Any, statements: list[tuple[str, Any]], repeat: int) -> tuple[float, float]:
    """Median and p95 (ms) of running `statements` straight through the DB-API driver."""
    if not statements:
        return float("nan"), float("nan")
    raw = app.extensions["portal.db"].raw_connection()
    try:
        timings = []
        for attempt in range(repeat + 2):
            started = time.perf_counter()
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
            raw.rollback()
            if attempt >= 2:
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        raw.close()
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]


def measure(app: Any, viewer: uuid.UUID, repeat: int) -> list[tuple[str, float, float, float, float]]:
    client = signed_in_client(app, viewer)
    with app.app_context():
        from portal.api import tokens

        token = tokens.create_token(db.session, db.session.get(User, viewer), "bench", 1)
        db.session.remove()
    results = []
    for label, url, params in REQUESTS:
        headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
        timings = []
        for attempt in range(repeat + 2):
            started = time.perf_counter()
            response = client.get(url, query_string=params, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if attempt >= 2:  # two warm-ups: caches, template compilation
                timings.append(elapsed * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        bare_median, bare_p95 = time_bare(app, capture_sql(app, client, url, params, headers), repeat)
        results.append((label, statistics.median(timings), p95, bare_median, bare_p95))
    return results


def run(label: str, url: str, count: int, repeat: int) -> list[tuple[str, float, float, float, float]]:
    print(f"{label}: migrating and seeding …")
    command.upgrade(alembic_config(url), "head")
    app = create_app("testing", DATABASE_URL=url)
    app.instance_path = tempfile.mkdtemp(prefix="bench-listing-instance-")
    viewer = seed(app, count)
    with app.app_context():
        visible = db.session.execute(text(
            "SELECT count(*) FROM items WHERE status IN ('published', 'withdrawn')")).scalar()
        db.session.remove()
    print(f"  {visible:,} live items; timing {repeat} requests each as an officer of {VIEWER_STATE} …")
    try:
        return measure(app, viewer, repeat)
    finally:
        app.extensions["portal.db"].dispose()
        shutil.rmtree(app.instance_path, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="?", type=int, default=None, help="items to seed (default 200000)")
    parser.add_argument("--items", dest="items_option", type=int, default=None,
                        help="the same, as an option (e.g. --items 1000000 --backend postgresql)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args()
    args.items = args.items_option or args.items or 200_000

    table: dict[str, list[tuple[str, float, float, float, float]]] = {}
    if args.backend in ("sqlite", "all"):
        folder = Path(tempfile.mkdtemp(prefix="bench-listing-"))
        try:
            table["SQLite"] = run("SQLite", f"sqlite:///{folder / 'portal.db'}", args.items, args.repeat)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.backend in ("postgresql", "all"):
        server = PostgresServer()
        server.start()
        try:
            table["PostgreSQL"] = run("PostgreSQL", server.create_database("bench_listing"), args.items, args.repeat)
        finally:
            server.stop()

    print(f"\n{args.items:,} items, 24 states, {args.repeat} timed requests each; milliseconds (median / p95).")
    print("Then the bare SQL of each request (its page query, capped count and rows through the DB-API driver, "
          "no ORM or templates; median / p95) and the page/bare ratio of the medians.")
    backends = list(table)
    print(f"{'request':<36}" + "".join(f"{b:>22}" for b in backends)
          + "".join(f"{b + ' bare':>22}{'ratio':>7}" for b in backends))
    for i, (label, *_) in enumerate(next(iter(table.values()))):
        cells = "".join(f"{table[b][i][1]:>10.1f} / {table[b][i][2]:>7.1f}  " for b in backends)
        bare = "".join(f"{table[b][i][3]:>10.1f} / {table[b][i][4]:>7.1f}  {table[b][i][1] / table[b][i][3]:>6.1f}"
                       for b in backends)
        print(f"{label:<36}{cells}{bare}")


if __name__ == "__main__":
    main()
