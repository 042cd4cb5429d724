"""Operator pages: the audit log and its integrity check."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from portal import access, audit
from portal.extensions import db
from portal.models.audit import AuditEntry
from portal.pagination import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def only_admins() -> None:
    if not access.can_view_audit_log(current_user):
        abort(404)


@bp.get("/audit")
def audit_log() -> Any:
    query = select(AuditEntry)
    action = (request.args.get("action") or "").strip()
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    page = paginate(db.session, query.order_by(AuditEntry.id.desc()), request.args)
    report = audit.verify_chain(db.session) if request.args.get("verify") else None
    return render_template("admin/audit.html", page=page, action=action, report=report,
                           displayable=audit.displayable)
