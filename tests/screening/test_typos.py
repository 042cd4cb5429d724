"""Typos a national file makes (in a legal form, a swapped pair of letters, two in one long
word, one that leaves a letter of the Arabic article) still find the denied party, while names
that only look alike once folded (Щ and С in the same script, a syllable more or less) do not
match. Real index, SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portal.screening.normalise import normalise
from tests.screening.conftest import party

DENIED = [
    party("北京天地科技有限公司", "CN"),
    party("科机密北械股份有限公司", "CN"),
    party("محمد حسن الحداد", "SY"),
    party("طارق محمد الكبيسي", "IQ"),
    party("Marco Stolobri", "IT"),
    party("Ágnes Núñezrin", "ES"),
    party("Zelcornor Vector AG", "DE"),
    party("Γιανθεκωος Ροος", "GR"),
    party("ООО «Энергососистем»", "RU"),
    party("ООО «Стройстрой»", "RU"),
    party("Tramar Técnica Inc.", "ES"),
    party("Mosvel Energie SARL", "SE"),
    party("Ελληνική Κωκωγιαν Ι.Κ.Ε.", "GR"),
]

FOUND = [
    ("Beijing Tiandi Keji Youixan Gongsi", "北京天地科技有限公司"),  # a swap inside the legal form
    ("Keji Mibei Xie Gufen Youoixan Gongsi", "科机密北械股份有限公司"),  # two typos inside it
    ("Mohammed Hasan l-Haddad", "محمد حسن الحداد"),  # al- lost its a
    ("Tariq oMhammed Al-Kuaisi", "طارق محمد الكبيسي"),  # two typos, two words, frequent given names
    ("Marco Stolorbi", "Marco Stolobri"),  # one swap is one typo
    ("Ánges Núñerin", "Ágnes Núñezrin"),  # a swap and a dropped letter
    ("uZeclornor Vector AG", "Zelcornor Vector AG"),  # two typos in one long word
    ("Giantlhekoos Rots", "Γιανθεκωος Ροος"),  # a typo that the th→t fold would make worse
]

NOT_FOUND = [
    "ЗАО «Энергощесистем»",  # same script: Щ is not С, though both fold to s
    "ОАО «Стройщестрой»",
    "Tramarrin Técnica LLC",  # a syllable more is another name
    "Mosvellun Energie AB",
    "Ελληνική Θεκογιαν Ι.Κ.Ε.",
]


@pytest.fixture
def denied(publish_denial: Callable[..., Any]) -> None:
    publish_denial(DENIED)


def test_typos_still_find_the_denied_party(denied: None, make_user: Any, screen_as: Any) -> None:
    officer = make_user("officer", "NO")
    results = screen_as(officer, [name for name, _ in FOUND])
    problems = [f"{name!r} should match {expected!r} first, got {[(m.party_name, m.score) for m in matches]}"
                for (name, expected), matches in zip(FOUND, results, strict=True)
                if not matches or matches[0].party_name != expected]
    assert not problems, "\n".join(problems)


def test_names_that_only_look_alike_once_folded_do_not_match(denied: None, make_user: Any,
                                                            screen_as: Any) -> None:
    officer = make_user("officer", "NO")
    results = screen_as(officer, NOT_FOUND)
    problems = [f"{name!r} should match nothing, matched {[(m.matched_name, m.score) for m in matches]}"
                for name, matches in zip(NOT_FOUND, results, strict=True) if matches]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("name", "words"), [
    ("Fangan Yixin De Youixan Gongsi", ("fangan", "iksin", "de")),
    ("ACME Limted", ("acme",)),
    ("Limted", ("limted",)),  # a name is never stripped to nothing
    ("Compass Technik", ("compas", "tehnik")),  # two letters from "company", but not beside a legal form
    ("Ka Gufen Youxian Gongsi", ("ka",)),
])
def test_legal_forms_are_stripped_despite_a_typo(name: str, words: tuple[str, ...]) -> None:
    assert normalise(name).tokens == words
