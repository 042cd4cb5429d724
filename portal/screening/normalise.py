"""Names to comparable keys: pure functions, no database, no Flask.

A name goes through: transliteration to Latin (anyascii; Han one syllable per character so
pinyin words split and join like Latin ones), case and diacritic folding (with the German
ä/ö/ü → ae/oe/ue convention folded back), removal of legal forms in many languages (a long
legal word also with a typo), and a "skeleton" that folds common romanisation variants (kh→h,
ts/tz/cz→c, sch/sh→s, ph→f, y/j→i, w→v, ou→u, doubled letters). Keys for candidate lookup and
features for scoring are derived from the skeleton tokens; the unfolded words (raw) are kept
too, to compare two names written in the same script, where there is no romanisation variant
to fold.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import jellyfish
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA

# Legal forms, written as the words they become after transliteration and folding, joined
# without spaces so "L.L.C.", "l l c" and "LLC", or "you xian gong si" and "youxian gongsi"
# (有限公司) are all recognised. A legal form never creates nor prevents a match: it is removed.
LEGAL_FORMS_TEXT = ["llc", "limitedliabilitycompany", "limitedliabilityco", "ltd", "limited", "colimited", "coltd",
                    "companylimited", "company", "co", "corp", "corporation", "inc", "incorporated", "plc", "llp",
                    "lp", "pllc", "pc", "ooo", "oao", "zao", "pao", "ao", "tov", "pat", "prat", "tdv", "ip",
                    "ooobshchestvosogranichennoiotvetstvennostiu", "obshchestvosogranichennoyotvetstvennostyu",
                    "obshchestvosogranichennoiotvetstvennostyu", "aktsionernoeobshchestvo",
                    "aktsionernoyeobshchestvo", "publichnoeaktsionernoeobshchestvo", "jsc", "ojsc", "cjsc", "pjsc",
                    "jointstockcompany", "publicjointstockcompany", "closedjointstockcompany",
                    "openjointstockcompany", "gmbh", "mbh", "ag", "kg", "ohg", "ug", "gmbhcokg", "gmbhundcokg",
                    "cokg", "kgaa", "ev", "se", "sa", "sas", "sasu", "sarl", "eurl", "snc", "sca", "sl", "slu", "sau",
                    "srl", "spa", "sapa", "snc", "scarl", "ltda", "sac", "saa", "sadecv", "sdeoril", "bv", "nv",
                    "vof", "cv", "bvba", "sprl", "ab", "aktiebolag", "as", "asa", "aps", "oy", "oyj", "hf", "sro",
                    "as", "kft", "zrt", "nyrt", "doo", "dd", "ad", "ead", "ood", "eood", "sp", "spzoo", "spzoo",
                    "spolkazoo", "sk", "ska", "kk", "gk", "yk", "youxiangongsi", "youxian", "gongsi",
                    "gufenyouxiangongsi", "jituan", "youxianzerengongsi", "zerengongsi", "chushikihoesa",
                    "jusikhoesa", "yuhanhoesa", "sharika", "sharikat", "sherket", "shrk", "shrkh", "shrkt", "mhdwd",
                    "dhmm", "mhdwdh", "wll", "anonimsirketi", "as", "ltdsti", "sti", "ae", "epe", "oe", "ike", "pte",
                    "pty", "bhd", "sdn", "sdnbhd", "tbk", "pt", "cv",
                    # 集团有限公司 as national files write it: "Group" alone is a word of the name.
                    "groupcoltd", "groupcolimited", "groupcompanylimited", "grouplimited", "groupltd",
                    "jituanyouxiangongsi"]


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
# Legal words long enough that a typo (two from seven letters) still leaves them recognisable
# (Youixan Gongsi, Limted); shorter ones (AG, OOO, Oy) stay exact: a typo in them is a name.
FUZZY_LEGAL_MIN = 5
FUZZY_LEGAL_TWO_EDITS = 7
FUZZY_LEGAL_ALONE = 6
PINYIN_LEGAL_WORDS = frozenset({"youxian", "gongsi", "gufen", "jituan", "zeren"})
_FUZZY_LEGAL_WORDS = sorted({f for f in LEGAL_FORMS if len(f) >= FUZZY_LEGAL_MIN} | PINYIN_LEGAL_WORDS | {
    "limited", "company", "liability", "corporation", "incorporated", "obshchestvo", "aktsionernoe",
    "ogranichennoi", "ogranichennoy", "otvetstvennostiu", "otvetstvennostyu"})


# The Arabic article written onto its word (الحداد); Latin files write it apart (Al-Haddad)
# or leave it out, so both sides drop it.
ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2})")
ARTICLES = frozenset({"al", "el"})
# What one dropped letter leaves of al-/el- (l-Haddad), dropped after legal forms (S.r.l.); a lone
# initial L says little either.
ARTICLE_REMNANT = "l"
CYRILLIC = re.compile(r"[\u0400-\u052f]")
GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")


def script_of(text: str) -> str:
    """The script a name is written in: han, abjad, cyrillic, greek or latin (anything else)."""
    for name, pattern in (("han", HAN), ("abjad", ABJAD), ("cyrillic", CYRILLIC), ("greek", GREEK)):
        if pattern.search(text):
            return name
    return "latin"


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


@lru_cache(maxsize=50_000)
def _near_legal_word(token: str, reach: int) -> tuple[str, int] | None:
    """The legal form, or word of one, that `token` spells with up to `reach` typos (rapidfuzz
    OSA), and how many."""
    found = process.extractOne(token, _FUZZY_LEGAL_WORDS, scorer=OSA.distance, score_cutoff=reach)
    return (found[0], int(found[1])) if found is not None else None


def _legal_runs(tokens: list[str]) -> list[int]:
    """For each token, the number of its legal-form run (the first token of the run), or -1."""
    run = [-1] * len(tokens)
    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + MAX_LEGAL_SPAN), i, -1):
            if "".join(tokens[i:j]) in LEGAL_FORMS:
                run[i:j] = [i] * (j - i)
                i = j
                break
        else:
            i += 1
    return run


def strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop every run of tokens that spells a legal form (also split or joined: l l c, youxian gongsi).

    A word with a typo is read as the legal word it is near when it completes a legal form with
    words written right (Youoixan Gongsi, Gufen Yotxian Gongsi), or, one typo away, is a long
    non-pinyin legal word on its own (Limitd, Compnay); pinyin words are often a letter from a
    legal one (Gongzhi, Gongsi). A name is never stripped to nothing."""
    runs = _legal_runs(tokens)
    exact = [t for t, run in zip(tokens, runs, strict=True) if run < 0]
    read = list(tokens)
    near: dict[int, int] = {}
    for i, token in enumerate(tokens):
        if runs[i] < 0 and len(token) >= FUZZY_LEGAL_MIN:
            found = _near_legal_word(token, 2 if len(token) >= FUZZY_LEGAL_TWO_EDITS else 1)
            if found is not None:
                read[i], near[i] = found[0], found[1]
    if not near:
        return exact
    read_runs = _legal_runs(read)
    members: dict[int, list[int]] = {}
    for i, run in enumerate(read_runs):
        if run >= 0:
            members.setdefault(run, []).append(i)
    legal = [run >= 0 for run in runs]
    for idx in members.values():
        if all(i not in near for i in idx):
            continue
        if (len(idx) > 1 and any(i not in near for i in idx)) or \
                (len(idx) == 1 and near[idx[0]] == 1 and len(tokens[idx[0]]) >= FUZZY_LEGAL_ALONE
                 and read[idx[0]] not in PINYIN_LEGAL_WORDS):
            for i in idx:
                legal[i] = True
    kept = [t for t, is_legal in zip(tokens, legal, strict=True) if not is_legal]
    return kept or exact


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
    script: str = "latin"  # script_of() the written name

    @property
    def raw_key(self) -> str:
        """The transliterated words unfolded, in written order (what a same-script name is compared on)."""
        return " ".join(self.raw)

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
    if len(raw) > 1:
        raw = [t for t in raw if t != ARTICLE_REMNANT]
    written = script_of(name)
    return NormalName(tokens=tuple(skeleton(t) for t in raw), raw=tuple(raw), abjad=bool(ABJAD.search(name)),
                      script=written)


def index_keys(name: NormalName) -> set[str]:
    """Keys under which a name is found: tokens, joined neighbours, phonetic and consonant
    frames, the prefix and suffix of each token and its one-deletion forms (so one or two
    typos still meet a key)."""
    keys: set[str] = set()
    toks = name.tokens
    for tok, raw in zip(toks, name.raw, strict=True):
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
        # Neighbouring consonant frames: a romanised Arabic name with a typo in one word still
        # shares a pair of given names in order, rarer than either alone (Tariq Mohammed …).
        frames = name.consonant_key.split()
        keys.update(f"cp:{a} {b}" for a, b in pairwise(frames) if len(a) + len(b) >= 5)
    # Split or joined words (Hua Wei / Huawei, Spets Tekhnika / Spetstekhnika).
    for a, b in pairwise(toks):
        keys.add(f"w:{a}{b}")
    if len(toks) > 1:
        keys.add(f"w:{name.joined}")
    return {k[:64] for k in keys}
