"""Names to comparable keys: pure functions, no database, no Flask.

A name goes through: transliteration to Latin (anyascii; Han one syllable per character so
pinyin words split and join like Latin ones), case and diacritic folding (with the German
ä/ö/ü → ae/oe/ue convention folded back), removal of legal forms in many languages, and a
"skeleton" that folds common romanisation variants (kh→h, ts/tz/cz→c, sch/sh→s, ph→f, y/j→i,
w→v, ou→u, doubled letters). Keys for candidate lookup and features for scoring are derived
from the skeleton tokens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import jellyfish
from anyascii import anyascii

# Legal forms, written as the words they become after transliteration and folding, joined
# without spaces so "L.L.C.", "l l c" and "LLC", or "you xian gong si" and "youxian gongsi"
# (有限公司) are all recognised. A legal form never creates nor prevents a match: it is removed.
LEGAL_FORMS_TEXT = ["llc", "limitedliabilitycompany", "limitedliabilityco", "ltd", "limited", "colimited", "coltd", "companylimited", "company", "co", "corp", "corporation", "inc", "incorporated", "plc", "llp", "lp", "pllc", "pc", "ooo", "oao", "zao", "pao", "ao", "tov", "pat", "prat", "tdv", "ip", "ooobshchestvosogranichennoiotvetstvennostiu", "obshchestvosogranichennoyotvetstvennostyu", "obshchestvosogranichennoiotvetstvennostyu", "aktsionernoeobshchestvo", "aktsionernoyeobshchestvo", "publichnoeaktsionernoeobshchestvo", "jsc", "ojsc", "cjsc", "pjsc", "jointstockcompany", "publicjointstockcompany", "closedjointstockcompany", "openjointstockcompany", "gmbh", "mbh", "ag", "kg", "ohg", "ug", "gmbhcokg", "gmbhundcokg", "cokg", "kgaa", "ev", "se", "sa", "sas", "sasu", "sarl", "eurl", "snc", "sca", "sl", "slu", "sau", "srl", "spa", "sapa", "snc", "scarl", "ltda", "sac", "saa", "sadecv", "sdeoril", "bv", "nv", "vof", "cv", "bvba", "sprl", "ab", "aktiebolag", "as", "asa", "aps", "oy", "oyj", "hf", "sro", "as", "kft", "zrt", "nyrt", "doo", "dd", "ad", "ead", "ood", "eood", "sp", "spzoo", "spzoo", "spolkazoo", "sk", "ska", "kk", "gk", "yk", "youxiangongsi", "youxian", "gongsi", "gufenyouxiangongsi", "jituan", "youxianzerengongsi", "zerengongsi", "chushikihoesa", "jusikhoesa", "yuhanhoesa", "sharika", "sharikat", "sherket", "shrk", "shrkh", "shrkt", "mhdwd", "dhmm", "mhdwdh", "wll", "anonimsirketi", "as", "ltdsti", "sti", "ae", "epe", "oe", "ike", "pte", "pty", "bhd", "sdn", "sdnbhd", "tbk", "pt", "cv",
                    # 集团有限公司 as national files write it: "Group" alone is a word of the name.
                    "groupcoltd", "groupcolimited", "groupcompanylimited", "grouplimited", "groupltd", "jituanyouxiangongsi"]


def _nfkd_strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
ABJAD = re.compile(r"[\u0590-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
GERMAN_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Romanisation-variant folds on already-Latin lower-case text (normalisation, not
# transliteration): order matters, longest first.
_FOLDS = [
    ("shch", "s"), ("sch", "s"), ("dzh", "i"), ("dj", "i"),
    ("zh", "i"), ("kh", "h"), ("ch", "h"), ("sh", "s"), ("ph", "f"), ("th", "t"), ("gh", "g"),
    ("ts", "c"), ("tz", "c"), ("cz", "c"), ("ck", "k"), ("q", "k"), ("x", "ks"),
    ("ou", "u"), ("oy", "u"), ("oo", "u"), ("ue", "u"), ("oe", "o"), ("ae", "a"), ("ee", "i"),
    ("y", "i"), ("j", "i"), ("w", "v"),
]
_FOLD_RE = re.compile("|".join(re.escape(a) for a, _ in _FOLDS))
_FOLD_MAP = dict(_FOLDS)
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiouyw]")

LEGAL_FORMS = frozenset(NON_ALNUM.sub("", f) for f in LEGAL_FORMS_TEXT)
MAX_LEGAL_SPAN = 6


# The Arabic article written onto its word (الحداد); Latin files write it apart (Al-Haddad)
# or leave it out, so both sides drop it.
ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2})")
ARTICLES = frozenset({"al", "el"})


def transliterate(text: str) -> str:
    """Any script to Latin: Han one syllable per character, everything else by anyascii."""
    text = unicodedata.normalize("NFKC", text)
    text = ARABIC_ARTICLE.sub("", text)
    text = HAN.sub(lambda m: f" {anyascii(m.group(0))} ", text)
    # ä→ae first is the German convention; the skeleton's ue→u folds it back to match ü→u.
    return anyascii(text.translate(GERMAN_UMLAUT))


def raw_tokens(text: str) -> list[str]:
    """Lower-case ASCII word tokens of `text` in any script."""
    latin = transliterate(text).lower().replace("'", "").replace("`", "")
    tokens = [t for t in NON_ALNUM.split(latin) if t]
    return [t for t in tokens if t not in ARTICLES] if len(tokens) > 1 else tokens


def strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop every run of tokens that spells a legal form (also split or joined: l l c, youxian gongsi)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + MAX_LEGAL_SPAN), i, -1):
            if "".join(tokens[i:j]) in LEGAL_FORMS:
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A token with romanisation variants folded (Spetstekhnika, Specztechnika → spectehnika)."""
    folded = _FOLD_RE.sub(lambda m: _FOLD_MAP[m.group(0)], token)
    return _DOUBLE.sub(r"\1", folded)


@lru_cache(maxsize=200_000)
def consonants(raw: str) -> str:
    """The consonant frame of a raw token, what an unvowelled (Arabic, Hebrew) spelling keeps:
    vowels and the letters that also write long vowels (w, y) dropped, then folded. A joined
    Arabic article (Albaghdadi) is dropped as the script side drops it."""
    if len(raw) >= 7 and raw[:2] in ARTICLES:
        raw = raw[2:]
    frame = skeleton(_VOWELS.sub("", raw))
    # Letters Arabic writes with one letter and romanisations with several: ج is j or g
    # (Jamal, Gamal; the skeleton has made j an i), ذ/ظ dh or z.
    return frame.replace("dh", "z").replace("i", "g") or raw[:1]


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    """Metaphone of the skeleton (jellyfish)."""
    return jellyfish.metaphone(token).lower() or token[:1]


# Tokens this long get one-deletion keys: shorter ones are too short for a typo to leave them
# recognisable (Каин / Цаин), longer ones are rare enough through their prefix and suffix keys.
MIN_DELETION_TOKEN = 4
MAX_DELETION_TOKEN = 16


@lru_cache(maxsize=200_000)
def deletions(token: str) -> frozenset[str]:
    """The token and every form of it with one letter left out: two tokens one typo apart
    (substitution, insertion, deletion or swap) share one of these."""
    if not MIN_DELETION_TOKEN <= len(token) <= MAX_DELETION_TOKEN:
        return frozenset()
    return frozenset({token} | {token[:i] + token[i + 1:] for i in range(len(token))})


@dataclass(frozen=True)
class NormalName:
    """A name reduced to what the matcher compares."""

    tokens: tuple[str, ...]  # skeleton tokens, legal forms removed, in written order
    raw: tuple[str, ...]  # lower-case ASCII tokens (unfolded), legal forms removed
    abjad: bool  # written in a script that leaves most vowels out (Arabic, Hebrew)

    @property
    def normalised(self) -> str:
        return " ".join(self.tokens)

    @property
    def sorted_key(self) -> str:
        return " ".join(sorted(self.tokens))

    @property
    def joined(self) -> str:
        return "".join(self.tokens)

    @property
    def phonetic_key(self) -> str:
        return " ".join(sorted(phonetic(t) for t in self.tokens))

    @property
    def consonant_key(self) -> str:
        """The consonant frames in written order: an Arabic name's order carries meaning
        (Muhammad Hasan, Hasan Muhammad are father and son)."""
        return " ".join(consonants(t) for t in self.raw)

    @property
    def empty(self) -> bool:
        return not self.tokens


def normalise(name: str) -> NormalName:
    """Reduce a name in any script to skeleton tokens without legal forms."""
    raw = strip_legal_forms(raw_tokens(name))
    return NormalName(tokens=tuple(skeleton(t) for t in raw), raw=tuple(raw), abjad=bool(ABJAD.search(name)))


def index_keys(name: NormalName) -> set[str]:
    """Keys under which a name is found: tokens, joined neighbours, phonetic and consonant
    frames, the prefix and suffix of each token and its one-deletion forms (so one or two
    typos still meet a key)."""
    keys: set[str] = set()
    toks = name.tokens
    for tok, raw in zip(toks, name.raw):
        if len(tok) >= 2:
            keys.add(f"w:{tok}")
        # Codes of two letters or fewer (Ivan → ifn is fine, Ali → l is not) select nothing.
        for prefix, code in (("m", phonetic(tok)), ("c", consonants(raw))):
            if len(code) >= 3:
                keys.add(f"{prefix}:{code}")
        if len(tok) >= 6:
            keys.add(f"p:{tok[:4]}")
            keys.add(f"s:{tok[-4:]}")
        keys.update(f"d:{d}" for d in deletions(tok))
    if len(toks) > 1:
        # The whole name's sound and consonant frame, word order ignored: exact for names whose
        # every word is common (Arabic given names) but whose combination is rare.
        keys.add(f"mn:{name.phonetic_key}")
        keys.add(f"cn:{' '.join(sorted(name.consonant_key.split()))}")
    # Split or joined words (Hua Wei / Huawei, Spets Tekhnika / Spetstekhnika).
    for a, b in pairwise(toks):
        keys.add(f"w:{a}{b}")
    if len(toks) > 1:
        keys.add(f"w:{name.joined}")
    return {k[:64] for k in keys}
