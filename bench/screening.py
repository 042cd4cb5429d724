"""Screening: 1,000 applicant parties against 100,000 denial parties, on SQLite and PostgreSQL.

Builds denials whose parties have names drawn across Latin (with diacritics), Cyrillic,
Greek, Arabic and Han script — companies with legal forms, people — some with aliases;
inserts them directly (Core executemany: items, denial_parties, names, keys, computed with
the same normalisation the sharing service uses). About 5% of the denials are TLP:RED to
another state, invisible to the screener. Then screens 1,000 applicants, 30% of them variants
of visible denied parties (one variant family each) and the rest names that are not denied,
as an officer of DK, and prints wall time, recall, precision and recall per family.

A match is correct when it is the variant's source party or a party with the same name
(generated names repeat). Precision counts every returned match.

Usage: .venv/bin/python bench/screening.py [--parties N] [--applicants N] [--backend sqlite|postgresql|all]
       [--sqlite-file PATH]  (reuse a built SQLite file: build once, re-screen quickly)
       [--threshold T] [--sweep T,T,…]
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from portal import access
from portal.cli import alembic_config
from portal.countries.register import FOUNDING_STATES
from portal.countries.service import seed_register
from portal.extensions import make_engine
from portal.models import (
    DenialParty,
    DenialPartyKey,
    DenialPartyName,
    Item,
    ItemAudienceCountry,
    Role,
    User,
    UserStatus,
)
from portal.models.base import utcnow
from portal.screening.matcher import DEFAULT_THRESHOLD, InputParty, screen
from portal.screening.normalise import normalise
from portal.screening.parties import name_fields, party_names
from tests.pg import PostgresServer

CODES = [code for code, _ in FOUNDING_STATES]
VIEWER = "DK"
BATCH = 5_000

# --- name material ------------------------------------------------------------------------
LATIN_SYL = ["ka", "lo", "mi", "ten", "sar", "vel", "dor", "pin", "tra", "mos", "eli", "qua", "rin", "sto",
             "gal", "fen", "bri", "mar", "cor", "dan", "hel", "vor", "lun", "ber", "gus", "tam", "zel", "nor"]
LATIN_WORDS = ["Global", "Nord", "Star", "Vector", "Trade", "Systems", "Technik", "Industrie", "Solutions", "Alpha",
               "Delta", "Omega", "Atlas", "Orion", "Polar", "Union", "Metal", "Energie", "Sécurité", "Électronique",
               "Südwerk", "Größe", "Müller", "Führung", "Straße", "Königs", "Señal", "Técnica", "Defensa", "Óptica"]
LATIN_LEGAL = ["GmbH", "AG", "S.A.", "SARL", "B.V.", "Ltd", "LLC", "Inc.", "S.r.l.", "Sp. z o.o.", "Oy", "AB", "A/S"]
LATIN_FIRST = ["Jürgen", "Günther", "José", "François", "Zoë", "Łukasz", "Søren", "Mário", "Hélène", "Björn",
               "Peter", "Anna", "Marco", "Lucia", "Pablo", "Ingrid", "Tomás", "Renée", "Ömer", "Ágnes"]
CYR_SYL = ["ка", "ло", "ми", "ре", "ву", "за", "до", "пе", "со", "ту", "хо", "ще", "бу", "ги", "ня", "ра",
           "ле", "мо", "ни", "ша", "жу", "ца", "фе", "чи", "юр", "ял", "ков", "тин"]
CYR_SURNAME_END = ["ов", "ев", "ин", "енко", "ский", "ович", "ук"]
CYR_FIRST = ["Иван", "Сергей", "Алексей", "Дмитрий", "Юрий", "Михаил", "Николай", "Андрей", "Владимир",
             "Евгений", "Олег", "Павел", "Григорий", "Фёдор", "Максим", "Татьяна", "Елена", "Ольга"]
CYR_ROOTS = ["Спец", "Пром", "Энерго", "Газ", "Нефте", "Техно", "Строй", "Маш", "Транс", "Авто", "Агро",
             "Инвест", "Сиб", "Урал", "Волга", "Рос", "Мега", "Теле", "Хим", "Металл", "Лес", "Сталь", "Щит"]
CYR_TAILS = ["техника", "строй", "маш", "ком", "снаб", "сервис", "систем", "прибор", "защита", "холдинг", "связь"]
CYR_LEGAL = ["ООО", "АО", "ПАО", "ЗАО", "ОАО"]
GREEK_SYL = ["πα", "πα", "δο", "πουλ", "κω", "στα", "νι", "κο", "λα", "θε", "ο", "δω", "ρο", "γιαν", "χρι", "στο"]
GREEK_END = ["ος", "ου", "ης", "ίδης", "άκης", "άτος"]
GREEK_WORDS = ["Ελληνική", "Τεχνική", "Άμυνα", "Συστήματα", "Ηλεκτρονική", "Ασφάλεια", "Εμπορική"]
GREEK_LEGAL = ["Α.Ε.", "Ε.Π.Ε.", "Ι.Κ.Ε."]
# Arabic name parts with the romanisations a national file may use.
ARABIC = [("محمد", ["Mohammed", "Muhammad", "Mohamed"]), ("أحمد", ["Ahmed", "Ahmad"]),
          ("حسن", ["Hassan", "Hasan"]), ("حسين", ["Hussein", "Husain", "Hussain"]), ("علي", ["Ali", "Aly"]),
          ("عمر", ["Omar", "Umar"]), ("خالد", ["Khaled", "Khalid"]), ("يوسف", ["Youssef", "Yusuf", "Yousef"]),
          ("إبراهيم", ["Ibrahim", "Ebrahim"]), ("عبدالله", ["Abdullah", "Abdallah"]), ("سعيد", ["Saeed", "Said"]),
          ("كريم", ["Karim", "Kareem"]), ("جمال", ["Jamal", "Gamal"]), ("ناصر", ["Nasser", "Nasir"]),
          ("منصور", ["Mansour", "Mansur"]), ("فيصل", ["Faisal", "Faysal"]), ("طارق", ["Tariq", "Tarek"]),
          ("سليمان", ["Suleiman", "Sulayman"]), ("رشيد", ["Rashid", "Rasheed"]), ("زياد", ["Ziad", "Ziyad"]),
          ("الحداد", ["Al-Haddad", "El Haddad"]), ("الشامي", ["Al-Shami", "El Shamy"]),
          ("البغدادي", ["Al-Baghdadi", "Albaghdadi"]), ("القاسم", ["Al-Qasim", "Al Kassem"]),
          ("النجار", ["Al-Najjar", "El Naggar"]), ("الخطيب", ["Al-Khatib", "El Khatib"]),
          ("العمري", ["Al-Omari", "Al Umari"]), ("المصري", ["Al-Masri", "El Masry"]),
          ("التميمي", ["Al-Tamimi", "Al Tamimi"]), ("الزهراني", ["Al-Zahrani", "Alzahrani"]),
          ("الفارس", ["Al-Fares", "Al Faris"]), ("السيد", ["Al-Sayed", "El Sayed"]), ("الراشد", ["Al-Rashed", "Al Rashid"]),
          ("الكبيسي", ["Al-Kubaisi", "Al Kubaysi"]), ("الدوري", ["Al-Douri", "Al Duri"]), ("الجبوري", ["Al-Jubouri", "Al Jaburi"])]
ARABIC_FAMILY = [a for a in ARABIC if a[0].startswith("ال")]
ARABIC_GIVEN = [a for a in ARABIC if not a[0].startswith("ال")]
ARABIC_COMPANY = [("شركة", None), ("مؤسسة", None)]
HAN_CHARS = "华天地科技中国北京上海深圳金龙海星光明东方新兴电子通信安防信息网络智能数据精密仪器工业机械"
HAN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
HAN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国庆文宇浩然子轩博涵"
HAN_LEGAL = ["有限公司", "股份有限公司", "集团有限公司"]
LATIN_LEGAL_EQUIV = {"LLC": ["Limited Liability Company", "L.L.C."], "Ltd": ["Limited", "Co., Ltd."],
                     "GmbH": ["G.m.b.H."], "S.A.": ["SA", "Société Anonyme"], "B.V.": ["BV"], "Inc.": ["Incorporated"],
                     "AG": ["A.G."], "SARL": ["S.A.R.L."], "S.r.l.": ["SRL"], "Sp. z o.o.": ["Spzoo"], "Oy": ["OY"],
                     "AB": ["Aktiebolag"], "A/S": ["AS"]}
CYR_LEGAL_VARIANTS = {"ООО": ["OOO", "LLC", "Limited Liability Company", "Obshchestvo s ogranichennoy otvetstvennostyu"],
                      "АО": ["AO", "JSC", "Joint Stock Company"], "ПАО": ["PAO", "PJSC", "Public Joint Stock Company"],
                      "ЗАО": ["ZAO", "CJSC"], "ОАО": ["OAO", "OJSC"]}
# Romanisation variants of Russian (BGN/PCGN as anyascii writes it → other national usages).
CYR_ROMAN_VARIANTS = [("kh", "h"), ("ts", "tz"), ("ts", "cz"), ("shch", "sch"), ("sh", "sch"), ("zh", "j"),
                      ("ya", "ja"), ("yu", "ju"), ("y", "j"), ("ch", "tch"), ("v", "w"), ("e", "ye")]


def syllables(rng: random.Random, table: list[str], low: int, high: int) -> str:
    return "".join(rng.choice(table) for _ in range(rng.randint(low, high)))


def latin_company(rng: random.Random) -> str:
    word = syllables(rng, LATIN_SYL, 2, 3).capitalize()
    parts = [word] + ([rng.choice(LATIN_WORDS)] if rng.random() < 0.6 else [])
    return " ".join(parts + [rng.choice(LATIN_LEGAL)])


def latin_person(rng: random.Random) -> str:
    surname = syllables(rng, LATIN_SYL, 2, 3).capitalize()
    if rng.random() < 0.3:
        surname = rng.choice(["Müller", "Schröder", "Jäger", "Núñez", "Gómez", "Lefèvre", "Kovač", "Dvořák"]) + \
            syllables(rng, LATIN_SYL, 1, 1)
    return f"{rng.choice(LATIN_FIRST)} {surname}"


def cyr_company(rng: random.Random) -> str:
    return f"{rng.choice(CYR_LEGAL)} «{rng.choice(CYR_ROOTS)}{syllables(rng, CYR_SYL, 0, 1)}{rng.choice(CYR_TAILS)}»"


def cyr_person(rng: random.Random) -> str:
    surname = syllables(rng, CYR_SYL, 1, 2).capitalize() + rng.choice(CYR_SURNAME_END)
    return f"{rng.choice(CYR_FIRST)} {surname}"


def greek_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(GREEK_WORDS)} {syllables(rng, GREEK_SYL, 2, 3).capitalize()} {rng.choice(GREEK_LEGAL)}"
    return syllables(rng, GREEK_SYL, 2, 3).capitalize() + rng.choice(GREEK_END) + " " + \
        syllables(rng, GREEK_SYL, 1, 2).capitalize() + rng.choice(GREEK_END)


def arabic_name(rng: random.Random) -> tuple[str, list[int]]:
    """An Arabic-script name and the indexes (into ARABIC) of its parts, to romanise later."""
    parts = [ARABIC.index(rng.choice(ARABIC_GIVEN)), ARABIC.index(rng.choice(ARABIC_GIVEN)),
             ARABIC.index(rng.choice(ARABIC_FAMILY))]
    return " ".join(ARABIC[i][0] for i in parts), parts


def han_company(rng: random.Random) -> str:
    return "".join(rng.choice(HAN_CHARS) for _ in range(rng.randint(4, 6))) + rng.choice(HAN_LEGAL)


def han_person(rng: random.Random) -> str:
    return rng.choice(HAN_SURNAMES) + "".join(rng.choice(HAN_GIVEN) for _ in range(rng.randint(1, 2)))


SCRIPTS = [("latin_company", 0.22), ("latin_person", 0.18), ("cyrillic_company", 0.14), ("cyrillic_person", 0.12),
           ("greek", 0.06), ("arabic", 0.14), ("han_company", 0.08), ("han_person", 0.06)]


def make_party(rng: random.Random) -> dict[str, Any]:
    """A party: its name, aliases, country, the script family, and (Arabic) its parts."""
    script = rng.choices([s for s, _ in SCRIPTS], [w for _, w in SCRIPTS])[0]
    parts: list[int] = []
    if script == "latin_company":
        name = latin_company(rng)
    elif script == "latin_person":
        name = latin_person(rng)
    elif script == "cyrillic_company":
        name = cyr_company(rng)
    elif script == "cyrillic_person":
        name = cyr_person(rng)
    elif script == "greek":
        name = greek_name(rng)
    elif script == "arabic":
        name, parts = arabic_name(rng)
    elif script == "han_company":
        name = han_company(rng)
    else:
        name = han_person(rng)
    aliases = []
    if rng.random() < 0.2:
        aliases.append(latin_company(rng) if "company" in script else latin_person(rng))
    country = rng.choice(["RU", "BY", "CN", "AE", "SY", "IR", "GR", "DE", "TR", "MM"])
    return {"name": name, "aliases": aliases, "country": country, "script": script, "parts": parts}


# --- variants -------------------------------------------------------------------------------

def typo(rng: random.Random, text_: str, edits: int) -> str:
    chars = list(text_)
    for _ in range(edits):
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if not letters:
            break
        i = rng.choice(letters)
        op = rng.choice(("sub", "del", "ins", "swap"))
        if op == "sub":
            chars[i] = rng.choice("abcdefghiklmnoprstuv")
        elif op == "del":
            del chars[i]
        elif op == "ins":
            chars.insert(i, rng.choice("aeioulnrst"))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def romanise_han(name: str, rng: random.Random) -> str:
    """Han to pinyin words: syllables grouped in twos, as national files write company names."""
    core, legal = name, ""
    for form in sorted(HAN_LEGAL, key=len, reverse=True):
        if name.endswith(form):
            core, legal = name[:-len(form)], form
            break
    syl = [anyascii(c) for c in core]
    if len(syl) <= 3 and not legal:  # a person: surname, then the given name in one word
        words = [syl[0], "".join(syl[1:]).lower().capitalize()]
    else:
        words = ["".join(syl[i:i + 2]).lower().capitalize() for i in range(0, len(syl), 2)]
    tail = {"有限公司": rng.choice(["Co., Ltd.", "Youxian Gongsi", "Company Limited"]),
            "股份有限公司": rng.choice(["Co., Ltd.", "Gufen Youxian Gongsi"]),
            "集团有限公司": rng.choice(["Group Co., Ltd.", "Jituan Youxian Gongsi"])}.get(legal, "")
    return " ".join(words + ([tail] if tail else []))


def romanise_cyr(name: str, rng: random.Random) -> str:
    latin = anyascii(name).replace("<<", "").replace(">>", "").replace("«", "").replace("»", "")
    for _ in range(2):
        a, b = rng.choice(CYR_ROMAN_VARIANTS)
        latin = latin.replace(a, b)
    return latin


FAMILIES = ["case_punct", "diacritics", "translit_cyrillic", "translit_greek", "translit_arabic", "translit_han",
            "romanisation", "legal_form", "word_order", "typo1", "typo2", "alias"]


def variant(rng: random.Random, party: dict[str, Any], family: str) -> str | None:
    """The party's name as another national file might write it; None if the family does not apply."""
    name, script = party["name"], party["script"]
    latinish = script.startswith("latin")
    if family == "case_punct":
        return rng.choice([name.upper(), name.lower(), name.replace(" ", "  ").replace("-", " ") + ".",
                           "-".join(name.split())])
    if family == "diacritics":
        if not latinish or name == anyascii(name):
            return None
        german = name.translate(str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "Ü": "Ue", "Ö": "Oe", "Ä": "Ae"}))
        return rng.choice([anyascii(name), anyascii(german), anyascii(name).upper()])
    if family == "translit_cyrillic":
        return anyascii(name).replace("<<", "").replace(">>", "") if script.startswith("cyrillic") else None
    if family == "romanisation":
        return romanise_cyr(name, rng) if script.startswith("cyrillic") else None
    if family == "translit_greek":
        return anyascii(name).replace("oy", "ou") if script == "greek" else None
    if family == "translit_arabic":
        if script != "arabic":
            return None
        return " ".join(rng.choice(ARABIC[i][1]) for i in party["parts"])
    if family == "translit_han":
        return romanise_han(name, rng) if script.startswith("han") else None
    if family == "legal_form":
        if script == "latin_company":
            for form, others in LATIN_LEGAL_EQUIV.items():
                if name.endswith(" " + form):
                    return name[:-len(form)] + rng.choice(others + [""])
            return None
        if script == "cyrillic_company":
            form = name.split()[0]
            core = name[len(form):].strip().strip("«»")
            return rng.choice([f"{rng.choice(CYR_LEGAL_VARIANTS[form])} {anyascii(core)}",
                               f"{anyascii(core)} {rng.choice(CYR_LEGAL_VARIANTS[form])}", f"{form} {core}"])
        return None
    if family == "word_order":
        if script in ("latin_person", "cyrillic_person"):
            words = name.split()
            return " ".join(reversed(words))
        if script == "arabic":
            words = name.split()
            return " ".join(words[-1:] + words[:-1])
        return None
    base = name if latinish else anyascii(name).replace("<<", "").replace(">>", "")
    if script.startswith("han"):
        base = romanise_han(name, rng)
    if script == "arabic":
        base = " ".join(ARABIC[i][1][0] for i in party["parts"])
    if family == "typo1":
        return typo(rng, base, 1)
    if family == "typo2":
        return typo(rng, base, 2) if len(normalise(base).joined) >= 8 else None
    if family == "alias":
        return party["aliases"][0] if party["aliases"] else None
    raise ValueError(family)


# --- building the database ----------------------------------------------------------------

def build(url: str, parties: int, seed: int = 1) -> list[dict[str, Any]]:
    """Migrate and fill the database; returns the denial parties as generated (with ids)."""
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    rng = random.Random(seed)
    with Session(engine) as session:
        seed_register(session)
        session.commit()
    authors = {c: uuid.uuid4() for c in CODES}
    viewer = uuid.uuid4()
    users = [{"id": i, "email": f"spoc.{c.lower()}@bench.example", "name": f"SPOC {c}", "role": Role.SPOC,
              "country_code": c} for c, i in authors.items()]
    users.append({"id": viewer, "email": "officer.dk@bench.example", "name": "Officer DK", "role": Role.OFFICER,
                  "country_code": VIEWER})
    for row in users:
        row.update(status=UserStatus.ACTIVE, is_designated_poc=False, failed_logins=0, created_at=utcnow(),
                   totp_enrolled_at=utcnow())
    with engine.begin() as conn:
        conn.execute(insert(User), users)
    generated: list[dict[str, Any]] = []
    now = utcnow()
    party_id = name_id = 0
    started = time.perf_counter()
    n = 0
    while len(generated) < parties:
        items, named, party_rows, name_rows, key_rows = [], [], [], [], []
        while len(items) < BATCH and len(generated) < parties:
            n += 1
            item_id = uuid.uuid4()
            originator = rng.choice([c for c in CODES if c != VIEWER])
            hidden = rng.random() < 0.05  # TLP:RED to another state: the DK screener never sees it
            status = rng.choices(("active", "amended", "revoked", "lapsed"), (75, 10, 10, 5))[0]
            details_parties = []
            for position in range(min(rng.choice((1, 1, 2, 2, 3)), parties - len(generated))):
                p = make_party(rng)
                party_id += 1
                p.update(id=party_id, item_id=item_id, hidden=hidden, status=status)
                generated.append(p)
                details_parties.append({"role": "end_user", "name": p["name"], "aliases": p["aliases"],
                                        "address": "", "country": p["country"]})
                party_rows.append({"id": party_id, "item_id": item_id, "position": position, "role": "end_user",
                                   "name": p["name"], "aliases": p["aliases"], "address": "", "country": p["country"]})
                for text_, is_alias in party_names(details_parties[-1]):
                    fields, keys = name_fields(text_)
                    name_id += 1
                    name_rows.append({"id": name_id, "party_id": party_id, "item_id": item_id, "name": text_,
                                      "is_alias": is_alias, **fields})
                    key_rows += [{"key": k, "item_id": item_id, "name_id": name_id} for k in keys]
            items.append({
                "id": item_id, "kind": "denial", "status": "published", "originator_code": originator,
                "created_by_id": authors[originator], "tlp": "RED" if hidden else "AMBER",
                "all_subscribing": not hidden, "to_secretariat": False, "to_observers": False,
                "title": f"Denial {n}", "summary": "", "body": "", "search_text": "", "version": 1,
                "details": {"national_ref": f"{originator}-{n:07d}", "parties": details_parties},
                "national_ref": f"{originator}-{n:07d}", "denial_status": status,
                "review_date": now.date(), "created_at": now, "updated_at": now, "published_at": now})
            if hidden:
                named.append({"item_id": item_id, "country_code": "NO" if originator != "NO" else "FI"})
        with engine.begin() as conn:
            conn.execute(insert(Item.__table__), items)
            if named:
                conn.execute(insert(ItemAudienceCountry.__table__), named)
            conn.execute(insert(DenialParty.__table__), party_rows)
            conn.execute(insert(DenialPartyName.__table__), name_rows)
            if engine.dialect.name == "postgresql":  # COPY: executemany of millions of rows takes minutes
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                with cursor, cursor.copy("COPY denial_party_keys (key, item_id, name_id) FROM STDIN") as copy:
                    for row in key_rows:
                        copy.write_row((row["key"], row["item_id"], row["name_id"]))
            else:
                conn.execute(insert(DenialPartyKey.__table__), key_rows)
        print(f"\r  built {len(generated):,}/{parties:,} parties ({time.perf_counter() - started:.0f} s)", end="",
              flush=True)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("denial_parties", "denial_party_names"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
    print(f"\r  built {parties:,} parties in {time.perf_counter() - started:.0f} s            ")
    engine.dispose()
    return generated


def applicants(generated: list[dict[str, Any]], count: int, share: float, seed: int = 2
               ) -> list[tuple[InputParty, dict[str, Any] | None, str | None]]:
    """`count` applicants: `share` of them variants of visible, active denied parties."""
    rng = random.Random(seed)
    eligible = [p for p in generated if not p["hidden"] and p["status"] in ("active", "amended")]
    denied_keys = {normalise(t).sorted_key for p in generated for t in [p["name"], *p["aliases"]]}
    out: list[tuple[InputParty, dict[str, Any] | None, str | None]] = []
    wanted = int(count * share)
    families = FAMILIES * (wanted // len(FAMILIES) + 1)
    for family in families[:wanted]:
        for _ in range(200):
            party = rng.choice(eligible)
            name = variant(rng, party, family)
            if name:
                country = party["country"] if rng.random() < 0.7 else rng.choice(["RU", "CN", "AE", "DE", None])
                out.append((InputParty(name=name, country=country), party, family))
                break
    # A name that is not denied must also be farther from every denied name than a variant family
    # reaches (the typo families make one or two edits, a swap counting as one): the syllable tables
    # are small, so a fresh name is often a one- or two-letter variant of a denied one (Андрей Каин /
    # Андрей Цаин, Mário / Marco Mospin), which the bench would otherwise count both as a miss to find
    # (typo family) and as a false positive (non-denied name).
    by_length: dict[int, list[str]] = defaultdict(list)
    for form in sorted({form for p in generated for t in [p["name"], *p["aliases"]] for form in _forms(t)}):
        by_length[len(form)].append(form)
    fresh_rng = random.Random(seed + 1000)
    while len(out) < count:
        p = make_party(fresh_rng)
        name = p["name"] if fresh_rng.random() < 0.5 or p["script"].startswith("latin") else \
            (variant(fresh_rng, p, "typo1") or p["name"])
        if normalise(name).sorted_key in denied_keys or normalise(p["name"]).sorted_key in denied_keys:
            continue
        if any(process.extractOne(form, by_length[length], scorer=OSA.distance, score_cutoff=_reach(form)) is not None
               for form in _forms(name) for length in range(len(form) - _reach(form), len(form) + _reach(form) + 1)):
            continue
        out.append((InputParty(name=name, country=p["country"]), None, None))
    rng.shuffle(out)
    return out


def _forms(name: str) -> set[str]:
    """The name as the typo families edit it: transliterated words without legal forms, in
    written and in sorted order."""
    raw = normalise(name).raw
    return {" ".join(raw), " ".join(sorted(raw))} if raw else set()


def _reach(form: str) -> int:
    """How many edits a variant family may make to a name this long (typo2 needs 8 letters)."""
    return 2 if len(form.replace(" ", "")) >= 8 else 1


def evaluate(url: str, generated: list[dict[str, Any]], apps: list[tuple[InputParty, Any, Any]],
             threshold: float, sweep: list[float] | None = None) -> dict[str, Any]:
    """Screen the applicants (timed) and score the result; `sweep` thresholds are scored from one
    more, untimed screening at the lowest of them."""
    engine = make_engine(url)
    by_id = {p["id"]: p for p in generated}
    same_name: dict[str, set[int]] = defaultdict(set)
    for p in generated:
        for t in [p["name"], *p["aliases"]]:
            same_name[normalise(t).sorted_key].add(p["id"])
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == "officer.dk@bench.example"))
        assert user is not None
        visible = access.items_filter(user)
        screen(session, visible, [InputParty("warm up")], threshold)
        started = time.perf_counter()
        results = screen(session, visible, [a[0] for a in apps], threshold)
        elapsed = time.perf_counter() - started
        lowest = min(sweep or [threshold])
        swept = screen(session, visible, [a[0] for a in apps], lowest) if lowest < threshold else results
    engine.dispose()
    result = _score(apps, results, by_id, same_name)
    result["seconds"] = elapsed
    result["sweep"] = {t: _score(apps, [[m for m in ms if m.score >= t] for ms in swept], by_id, same_name)
                       for t in sorted(sweep or [])}
    return result


def _score(apps: list[tuple[InputParty, Any, Any]], results: list[list[Any]], by_id: dict[int, dict[str, Any]],
           same_name: dict[str, set[int]]) -> dict[str, Any]:
    tp = fp = 0
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    hidden_hits = 0
    misses: dict[str, list[str]] = defaultdict(list)
    false_positives: list[tuple[str, str, float]] = []
    for (applicant, target, family), matches in zip(apps, results):
        good: set[int] = set()
        if target is not None:
            for t in [target["name"], *target["aliases"]]:
                good |= same_name[normalise(t).sorted_key]
            good.add(target["id"])
            total[family] += 1
            if any(m.party_id in good for m in matches):
                found[family] += 1
            elif len(misses[family]) < 4:
                misses[family].append(f"{applicant.name!r} ← {target['name']!r}")
        for m in matches:
            hidden_hits += by_id[m.party_id]["hidden"]
            if m.party_id in good:
                tp += 1
            else:
                fp += 1
                if len(false_positives) < 12:
                    false_positives.append((applicant.name, m.matched_name, m.score))
    variants = sum(total.values())
    return {"recall": sum(found.values()) / max(1, variants), "precision": tp / max(1, tp + fp),
            "tp": tp, "fp": fp, "variants": variants, "families": {f: (found[f], total[f]) for f in FAMILIES},
            "misses": misses, "false_positives": false_positives, "hidden_hits": hidden_hits}


def report(label: str, result: dict[str, Any], threshold: float, parties: int, count: int) -> None:
    print(f"\n{label}: {count:,} applicants × {parties:,} denial parties, threshold {threshold}")
    print(f"  wall time {result['seconds']:.2f} s; recall {result['recall']:.3f} ({result['variants']} variants); "
          f"precision {result['precision']:.3f} ({result['tp']} correct, {result['fp']} wrong matches); "
          f"matches of invisible denials: {result['hidden_hits']}")
    for family, (hit, n) in result["families"].items():
        print(f"    {family:<18} {hit:>3}/{n:<3} {hit / max(1, n):.2f}")
    for family, examples in result["misses"].items():
        print(f"  missed {family}: " + "; ".join(examples))
    for a, b, s in result["false_positives"]:
        print(f"  wrong: {a!r} ~ {b!r} {s}")
    for t, r in result["sweep"].items():
        print(f"  at {t:.2f}: recall {r['recall']:.3f}, precision {r['precision']:.3f} ({r['tp']} correct, "
              f"{r['fp']} wrong), matches of invisible denials: {r['hidden_hits']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--applicants", type=int, default=1_000)
    parser.add_argument("--share", type=float, default=0.3, help="share of applicants that are variants")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--sweep", default="0.75,0.8,0.85,0.9",
                        help="comma-separated thresholds also scored (from one more, untimed screening)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--sqlite-file", help="keep the SQLite database here and reuse it when it exists")
    args = parser.parse_args()
    sweep = [float(t) for t in args.sweep.split(",") if t.strip()]
    # Generation is deterministic: a reused file holds exactly these parties.
    rng_parties = None
    if args.backend in ("sqlite", "all"):
        folder = Path(tempfile.mkdtemp(prefix="bench-screening-"))
        path = Path(args.sqlite_file) if args.sqlite_file else folder / "portal.db"
        url = f"sqlite:///{path}"
        try:
            if path.exists():
                rng_parties = regenerate(args.parties)
            else:
                print("SQLite: building …")
                rng_parties = build(url, args.parties)
            apps = applicants(rng_parties, args.applicants, args.share)
            report("SQLite", evaluate(url, rng_parties, apps, args.threshold, sweep), args.threshold, args.parties,
                   args.applicants)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.backend in ("postgresql", "all"):
        server = PostgresServer()
        server.start()
        try:
            url = server.create_database("bench_screening")
            print("PostgreSQL: building …")
            generated = build(url, args.parties)
            apps = applicants(generated, args.applicants, args.share)
            report("PostgreSQL", evaluate(url, generated, apps, args.threshold, sweep), args.threshold, args.parties,
                   args.applicants)
        finally:
            server.stop()


def regenerate(parties: int, seed: int = 1) -> list[dict[str, Any]]:
    """The parties build() made with the same seed, without touching a database."""
    rng = random.Random(seed)
    generated: list[dict[str, Any]] = []
    party_id = 0
    while len(generated) < parties:
        item_id = uuid.uuid4()
        rng.choice([c for c in CODES if c != VIEWER])
        hidden = rng.random() < 0.05
        status = rng.choices(("active", "amended", "revoked", "lapsed"), (75, 10, 10, 5))[0]
        for _ in range(min(rng.choice((1, 1, 2, 2, 3)), parties - len(generated))):
            p = make_party(rng)
            party_id += 1
            p.update(id=party_id, item_id=item_id, hidden=hidden, status=status)
            generated.append(p)
    return generated


if __name__ == "__main__":
    main()
