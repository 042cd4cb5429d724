"""What may be uploaded: file-name sanitising, the type allow-list checked against content, safe headers."""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from portal import errors

SNIFF_BYTES = 64 * 1024
MAX_FILENAME = 180


class UnsupportedType(errors.UnsupportedType):
    """The file is not of an allowed type, or its content does not match its extension."""


@dataclass(frozen=True)
class Kind:
    family: str  # what the content must look like: pdf, zip, ole, png, jpeg, gif, webp, text
    media_type: str
    label: str


# The allow-list, by extension. The content decides: the extension only has to agree with it.
ALLOWED: dict[str, Kind] = {
    "pdf": Kind("pdf", "application/pdf", "PDF"),
    "docx": Kind("zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"),
    "xlsx": Kind("zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook"),
    "pptx": Kind("zip", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                 "PowerPoint presentation"),
    "odt": Kind("zip", "application/vnd.oasis.opendocument.text", "OpenDocument text"),
    "ods": Kind("zip", "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet"),
    "odp": Kind("zip", "application/vnd.oasis.opendocument.presentation", "OpenDocument presentation"),
    "zip": Kind("zip", "application/zip", "ZIP archive"),
    "doc": Kind("ole", "application/msword", "Word 97-2003 document"),
    "xls": Kind("ole", "application/vnd.ms-excel", "Excel 97-2003 workbook"),
    "ppt": Kind("ole", "application/vnd.ms-powerpoint", "PowerPoint 97-2003 presentation"),
    "png": Kind("png", "image/png", "PNG image"),
    "jpg": Kind("jpeg", "image/jpeg", "JPEG image"),
    "jpeg": Kind("jpeg", "image/jpeg", "JPEG image"),
    "gif": Kind("gif", "image/gif", "GIF image"),
    "webp": Kind("webp", "image/webp", "WebP image"),
    "txt": Kind("text", "text/plain", "Plain text"),
    "csv": Kind("text", "text/csv", "CSV table"),
}
LABELS = {kind.media_type: kind.label for kind in ALLOWED.values()}
ALLOWED_SUMMARY = "PDF, Word, Excel, PowerPoint (current or 97-2003), OpenDocument, PNG, JPEG, GIF, WebP, " \
                  "plain text, CSV or ZIP"
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in ALLOWED)
FAMILY_NAMES = {"pdf": "a PDF", "zip": "a ZIP-based document", "ole": "a 97-2003 Office document",
                "png": "a PNG image", "jpeg": "a JPEG image", "gif": "a GIF image", "webp": "a WebP image",
                "text": "UTF-8 text"}

_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
# Text that a browser could render as active content is not "plain text", whatever its name.
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|a\s|div|img)",
                     re.IGNORECASE)
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)", re.IGNORECASE)
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def sanitise_filename(raw: str) -> str:
    """A file name safe to store, show and send back: no path, no control or bidi characters, bounded."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]  # browsers may send a full client path
    # Drop control, format (bidi overrides such as U+202E), surrogate and unassigned code points.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if _RESERVED.match(name):
        name = "_" + name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:10]
    stem = stem[:MAX_FILENAME - len(ext) - 1].rstrip(" .") or "attachment"
    return f"{stem}.{ext}" if ext else stem


def extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def _family(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE2):
        return "ole"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if _is_text(head):
        return "text"
    return None


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not _MARKUP.match(head.removeprefix(codecs.BOM_UTF8))


def detect(filename: str, head: bytes) -> Kind:
    """The allowed type of a file from its first bytes and its (sanitised) name; UnsupportedType otherwise."""
    ext = extension(filename)
    expected = ALLOWED.get(ext)
    if expected is None:
        raise UnsupportedType(f"Files of this type cannot be attached. Choose a {ALLOWED_SUMMARY} file.",
                              {"file": f"Allowed types: {ALLOWED_SUMMARY}."})
    if not head:
        raise UnsupportedType("The file is empty.", {"file": "The file is empty."})
    found = _family(head[:SNIFF_BYTES])
    if found != expected.family:
        what = FAMILY_NAMES.get(found or "", "not an allowed type")
        found_text = f"is {what}" if found else "is not of an allowed type"
        raise UnsupportedType(
            f"The file is named .{ext} but its content {found_text}. Only {ALLOWED_SUMMARY} files can be attached, "
            "and the content must match the name.",
            {"file": f"The content of this file does not match .{ext}."})
    return expected


def ascii_fallback(filename: str) -> str:
    """An ASCII approximation of a file name for the plain filename= parameter."""
    def fold(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return re.sub(r'[^A-Za-z0-9._ ()+,=@~-]', "_", folded).strip(" .")

    stem, dot, ext = filename.rpartition(".")
    if not dot:
        return fold(filename) or "attachment"
    ext = fold(ext)
    stem = fold(stem) or "attachment"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266 header: an ASCII fallback plus the exact UTF-8 name as filename*."""
    return f"{disposition}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def response_media_type(media_type: str) -> str:
    """The Content-Type to send: text gets an explicit charset so nothing guesses one."""
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def type_label(media_type: str) -> str:
    return LABELS.get(media_type, media_type)


def size_label(size: int) -> str:
    """Human file size (binary units, as file managers show)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
