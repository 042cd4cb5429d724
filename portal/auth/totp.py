"""TOTP (RFC 6238) through pyotp, with replay protection by time step."""
from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno

ISSUER = "ECHRI Portal"
STEP_SECONDS = 30
ALLOWED_DRIFT_STEPS = 1  # accept the previous and next 30-second code for clock drift


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG document (no script, safe under our CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#0b0c0c", light="#ffffff")


def matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time step whose code equals `code`, if it is newer than `after_step`; else None.

    Returning the step lets the caller remember it, so the same code (or an older one) is
    never accepted twice: a code observed over a shoulder or in a log cannot be replayed.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - ALLOWED_DRIFT_STEPS, current + ALLOWED_DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
