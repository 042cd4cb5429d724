"""The key option of the second sign-in step, as the code page shows it (used by auth.login_mfa)."""
from __future__ import annotations

from typing import Any

from flask import flash, session

from portal import access
from portal.auth import webauthn
from portal.auth.webauthn_forms import KeyAssertionForm
from portal.extensions import db
from portal.models.user import User

LOGIN_CHALLENGE = "webauthn_login"  # the session names the server-side challenge; it holds no secret
KEY_ASKED = ("Your state asks its users to sign in with a security key or passkey. Register one under "
             "“Your account”, then “Security keys and passkeys”: from then on it replaces the code from your app.")


def ask_for_key(user: User) -> None:
    """After any completed sign-in: remind a user whose state requires a key and who has none."""
    if access.should_register_key(user, has_key=webauthn.has_key(db.session, user)):
        flash(KEY_ASKED, "info")


def second_step_context(user: User) -> dict[str, Any]:
    """A fresh key challenge for the code page (when the user has keys) and whether TOTP is offered."""
    begun = webauthn.begin_login(db.session, user)
    if begun is None:
        session.pop(LOGIN_CHALLENGE, None)
        return {"key_options": None, "key_form": None, "totp_allowed": True}
    options, challenge_id = begun
    session[LOGIN_CHALLENGE] = challenge_id
    return {"key_options": options, "key_form": KeyAssertionForm(),
            "totp_allowed": access.may_sign_in_with_totp(user, has_key=True)}
