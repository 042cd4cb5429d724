"""File names, type detection and download headers (pure functions: no database)."""
from __future__ import annotations

import pytest

from portal.attachments.content import (
    UnsupportedType,
    ascii_fallback,
    content_disposition,
    detect,
    sanitise_filename,
    size_label,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
    ("C:\\Users\\me\\Desktop\\report.pdf", "report.pdf"),
    ("rep\x00ort\x1b[31m\r\n.txt", "report[31m.txt"),
    ("invoice\u202etxt.exe.txt", "invoicetxt.exe.txt"),
    ("zero\u200bwidth.txt", "zerowidth.txt"),
    ("  ..hidden.txt  ", "hidden.txt"),
    ('a<b>c:"d"|e?*.txt', "a_b_c__d__e__.txt"),
    ("CON.txt", "_CON.txt"),
    ("lpt1", "_lpt1"),
    ("", "attachment"),
    ("...", "attachment"),
    ("/", "attachment"),
    (".pdf", "pdf"),
    ("x" * 400 + ".pdf", "x" * 176 + ".pdf"),
    ("Cafe\u0301.txt", "Café.txt"),  # NFC
])
def test_sanitise_filename(raw: str, expected: str) -> None:
    assert sanitise_filename(raw) == expected


def test_detect_checks_content_against_the_name() -> None:
    assert detect("a.pdf", b"%PDF-1.4\n").media_type == "application/pdf"
    assert detect("a.PDF", b"%PDF-1.4\n").media_type == "application/pdf"
    for name, head in [("a.pdf", b"\x7fELF\x02\x01"), ("a.pdf", b"<html>"), ("a.txt", b"<!doctype html>"),
                       ("a.txt", b"\xef\xbb\xbf<svg onload=x>"), ("a.txt", b"bin\x00ary"), ("a.txt", b"\xff\xfe"),
                       ("a.docx", b"%PDF-"), ("a.exe", b"MZ"), ("a", b"text"), ("a.html", b"<p>")]:
        with pytest.raises(UnsupportedType):
            detect(name, head)


def test_text_sample_may_end_inside_a_character() -> None:
    sample = ("é" * 40000).encode()[:65535]  # cut in the middle of a two-byte character
    assert detect("a.txt", sample).media_type == "text/plain"


def test_content_disposition_is_safe() -> None:
    header = content_disposition('naïve "quote"; x=1.txt')
    assert header == ('attachment; filename="naive _quote__ x=1.txt"; '
                      "filename*=UTF-8''na%C3%AFve%20%22quote%22%3B%20x%3D1.txt")
    assert ascii_fallback("日本語.pdf") == "attachment.pdf"
    assert "\n" not in content_disposition("a\nb.txt")


def test_size_label() -> None:
    assert size_label(512) == "512 bytes"
    assert size_label(2048) == "2.0 KB"
    assert size_label(100 * 1024 * 1024) == "100.0 MB"
