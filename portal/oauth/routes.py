"""OAuth2 endpoints for machine clients (Authlib answers them) and the pages where a SPOC
registers its state's clients and administrators oversee all of them."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from portal import access
from portal.errors import ValidationFailed
from portal.extensions import csrf, db
from portal.forms import ButtonForm, apply_errors
from portal.models.base import utcnow
from portal.oauth import server, service
from portal.oauth.forms import ClientForm

bp = Blueprint("oauth", __name__)


@bp.post("/oauth/token")
def token() -> Response:
    """RFC 6749 client credentials grant."""
    response: Response = server.authorization.create_token_response()
    return response


@bp.post("/oauth/revoke")
def revoke() -> Response:
    """RFC 7009: a client revokes one of its tokens."""
    response: Response = server.authorization.create_endpoint_response(server.Revocation.ENDPOINT_NAME)
    return response


@bp.post("/oauth/introspect")
def introspect() -> Response:
    """RFC 7662: a client asks about one of its own tokens."""
    response: Response = server.authorization.create_endpoint_response(server.Introspection.ENDPOINT_NAME)
    return response


# The client authenticates itself (secret or signed assertion) and sends no cookies: no CSRF.
for _view in (token, revoke, introspect):
    csrf.exempt(_view)


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Any:
    """RFC 8414 authorization server metadata."""
    return jsonify({
        "issuer": server.issuer(),
        "token_endpoint": url_for("oauth.token", _external=True),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": server.AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "scopes_supported": list(access.CLIENT_SCOPES),
        "response_types_supported": [],
        "revocation_endpoint": url_for("oauth.revoke", _external=True),
        "revocation_endpoint_auth_methods_supported": server.AUTH_METHODS,
        "introspection_endpoint": url_for("oauth.introspect", _external=True),
        "introspection_endpoint_auth_methods_supported": server.AUTH_METHODS,
    })


@bp.route("/clients", methods=["GET", "POST"])
def clients() -> Any:
    """A SPOC's page for its state's clients; the administrators' overview of all of them."""
    manages = access.can_manage_clients(current_user)
    if not manages and not access.can_oversee_clients(current_user):
        abort(404)
    form = ClientForm() if manages else None
    created = secret = None
    if form is not None and form.validate_on_submit():
        try:
            created, secret = service.register_client(db.session, current_user, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
    return render_template("oauth/clients.html", form=form, created=created, secret=secret,
                           clients=service.visible_clients(db.session, current_user), action_form=ButtonForm(),
                           scopes=access.CLIENT_SCOPES, now=utcnow())


@bp.post("/clients/<client_id>/revoke")
def revoke_client(client_id: str) -> Any:
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    service.revoke_client(db.session, current_user, client_id)
    flash("The client is revoked, with every token it held.", "success")
    return redirect(url_for("oauth.clients"))
