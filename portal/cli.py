"""Operator commands: `flask --app wsgi <group> <command>`."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal import audit
from portal.auth.passwords import PasswordPolicyError
from portal.countries import service as countries
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models.user import Role

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
countries_cli = AppGroup("countries", help="The country register.")
users_cli = AppGroup("users", help="Accounts.")
audit_cli = AppGroup("audit", help="The audit log.")
demo_cli = AppGroup("demo", help="Demonstration data (development only).")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")
denials_cli = AppGroup("denials", help="Licence-denial notifications.")
outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
notify_cli = AppGroup("notify", help="Alert e-mails.")
keys_cli = AppGroup("keys", help="Key pairs of the states and the secretariat, and the master key.")
attachments_cli = AppGroup("attachments", help="The attachment store.")
backup_cli = AppGroup("backup", help="Signed backups of the database and the attachment store.")
clients_cli = AppGroup("clients", help="OAuth2 machine clients of the states.")
contact_cli = AppGroup("contact", help="Messages sent through \"Contact the Initiative\".")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit: what scripts and operators expect."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _send_queued() -> None:
    """Send what a reminder command queued; a mail server that is down leaves it for the worker."""
    from portal.notifications import outbox

    try:
        click.echo(f"{outbox.deliver_pending(db.session)} message(s) sent.")
    except OSError as error:  # queued messages stay in the outbox for its worker to retry
        fail(f"the mail server refused or could not be reached ({error}); the outbox will retry.", 1)


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@countries_cli.command("seed")
def countries_seed() -> None:
    """Add the founding states that are missing from the register."""
    added = countries.seed_register(db.session)
    click.echo(f"{added} state(s) added to the register.")


@countries_cli.command("list")
def countries_list() -> None:
    """Print the register: code, status, endorsement date, name, designated contact."""
    contacts = countries.designated_contacts(db.session)
    for country in countries.list_countries(db.session):
        contact = contacts.get(country.code)
        click.echo("\t".join([
            country.code, country.status.value,
            country.endorsed_on.isoformat() if country.endorsed_on else "-",
            country.name, contact.email if contact else "-",
        ]))


@users_cli.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", "role_name", required=True, help="spoc, officer, reader, secretariat or admin.")
@click.option("--country", "country_code", default=None, help="ISO code of the state (state roles only).")
@click.option("--designated", is_flag=True, help="Make this SPOC its state's designated point of contact.")
def users_add(email: str, name: str, role_name: str, country_code: str | None, designated: bool) -> None:
    """Create an active account; the password comes from PORTAL_PASSWORD or a prompt."""
    from portal.auth import totp
    from portal.models.base import utcnow
    from portal.users import service as users

    try:
        role = Role(role_name.lower())
    except ValueError:
        fail(f"unknown role {role_name!r}; choose one of {', '.join(r.value for r in Role)}")
    if role.belongs_to_state and not country_code:
        fail(f"the {role.value} role needs --country")
    if designated and role is not Role.SPOC:
        fail("only a spoc can be --designated")
    password = os.environ.get("PORTAL_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(db.session, email=email, name=name, role=role,
                                 country_code=country_code, password=password)
    except ValidationFailed as error:
        fail("; ".join(error.fields.values()) or error.message)
    except PasswordPolicyError as error:
        fail(str(error))
    # Operators hand the secret over out of band, so the account is enrolled already.
    user.totp_secret = totp.new_secret()
    user.totp_enrolled_at = utcnow()
    user.is_designated_poc = designated
    audit.record(db.session, "user.created", actor_label="cli", target_type="user", target_id=user.id,
                 details={"role": role.value, "country": user.country_code, "designated": designated})
    db.session.commit()
    click.echo(f"created: {user.email} ({role.value}{', ' + user.country_code if user.country_code else ''})")
    click.echo(f"totp-secret: {user.totp_secret}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming the first bad entry."""
    report = audit.verify_chain(db.session)
    if report.ok:
        click.echo(f"audit chain intact: {report.entries} entries")
        return
    click.echo(f"audit chain broken at entry {report.first_bad_id}: {report.problem}", err=True)
    sys.exit(1)


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="operator", help="What the token is for.")
@click.option("--days", default=90, type=int, help="Days until it expires (1-365).")
def tokens_create(email: str, name: str, days: int) -> None:
    """Print a new API token for the account EMAIL (shown once)."""
    from portal.api import tokens
    from portal.auth.service import find_user_by_email

    user = find_user_by_email(db.session, email)
    if user is None or not user.is_active:
        fail(f"no active account {email!r}")
    try:
        click.echo(tokens.create_token(db.session, user, name, days))
    except ValidationFailed as error:
        fail(error.message)


@clients_cli.command("create")
@click.option("--country", "country_code", required=True, help="ISO code of the client's state.")
@click.option("--name", required=True, help="What the system is.")
@click.option("--scopes", required=True, help='Space-separated, e.g. "denials:read notices:read".')
@click.option("--method", "auth_method", default="client_secret_basic",
              help="client_secret_basic (default) or private_key_jwt.")
@click.option("--jwks-file", type=click.Path(dir_okay=False), default=None,
              help="The client's public JWK or JWK Set (private_key_jwt).")
@click.option("--days", default=90, type=int, help="Days until the client expires (1-365).")
def clients_create(country_code: str, name: str, scopes: str, auth_method: str, jwks_file: str | None,
                   days: int) -> None:
    """Register a client for a state, answerable to its designated point of contact; prints
    `client-id: …` and, for a secret, `client-secret: …` (shown once)."""
    from sqlalchemy import select

    from portal.models.user import User, UserStatus
    from portal.oauth import service as clients

    code = country_code.strip().upper()
    spoc = db.session.scalars(select(User).where(
        User.country_code == code, User.role == Role.SPOC, User.status == UserStatus.ACTIVE)
        .order_by(User.is_designated_poc.desc(), User.created_at)).first()
    if spoc is None:
        fail(f"no active point of contact for {code!r} to answer for the client")
    jwks = ""
    if jwks_file:
        try:
            jwks = Path(jwks_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            fail(f"cannot read {jwks_file}: {error.__class__.__name__}")
    try:
        client, secret = clients.register_client(db.session, spoc, {
            "name": name, "scopes": scopes.split(), "auth_method": auth_method, "jwks": jwks, "days": days})
    except ValidationFailed as error:
        fail("; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message)
    click.echo(f"client-id: {client.client_id}")
    if secret:
        click.echo(f"client-secret: {secret}")


@clients_cli.command("list")
def clients_list() -> None:
    """Every client: id, state, status, authentication, expiry, scopes (tab-separated)."""
    from sqlalchemy import select

    from portal.models.base import utcnow
    from portal.models.oauth import OAuthClient

    now = utcnow()
    for client in db.session.scalars(select(OAuthClient).order_by(OAuthClient.country_code, OAuthClient.created_at)):
        status = "revoked" if client.revoked_at else ("expired" if client.expires_at <= now else "active")
        click.echo("\t".join([client.client_id, client.country_code, status, client.auth_method.value,
                               client.expires_at.date().isoformat(), client.scopes]))


@clients_cli.command("revoke")
@click.argument("client_id")
def clients_revoke(client_id: str) -> None:
    """Revoke a client and every token it holds."""
    from portal.errors import NotFound
    from portal.oauth import service as clients

    try:
        clients.revoke_client(db.session, None, client_id)
    except NotFound:
        fail(f"no client {client_id!r}")
    click.echo(f"revoked: {client_id}")


@denials_cli.command("lapse")
def denials_lapse() -> None:
    """Mark denials past their review date as lapsed (run daily from cron)."""
    from portal.sharing import service as sharing

    click.echo(f"{sharing.lapse_overdue_denials(db.session)} denial(s) lapsed.")


@denials_cli.command("remind-review")
def denials_remind_review() -> None:
    """E-mail the denying state's SPOCs 90, 30 and 7 days before a denial's review date (cron, daily; each once)."""
    from portal.sharing import review

    click.echo(f"{review.queue_review_reminders(db.session)} review reminder(s) queued.")
    _send_queued()


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Do what is due and exit (for cron).")
@click.option("--interval", default=10.0, help="Seconds between rounds when running continuously.")
def outbox_run(once: bool, interval: float) -> None:
    """The worker: re-sync attachment wraps after a register change, then send queued e-mails
    over SMTP, with retries and backoff."""
    import time

    from portal.attachments import service as attachments
    from portal.notifications import outbox
    from portal.public import contact

    while True:
        attachments.sync_if_register_changed(db.session)  # long re-wraps run here, not in a request
        contact.purge(db.session)  # messages past their retention period
        try:
            sent = outbox.deliver_pending(db.session) + contact.deliver_mail(db.session)
        except OSError as error:  # smtplib errors are OSErrors: the message is kept for a retry
            click.echo(f"Error: the mail server refused or could not be reached ({error}); will retry.", err=True)
            if once:
                sys.exit(1)
            sent = 0
        if once:
            click.echo(f"{sent} message(s) sent.")
            return
        db.session.remove()
        time.sleep(interval)


@notify_cli.command("digest")
def notify_digest() -> None:
    """Queue and send each digest subscriber's summary of what became visible since their last one."""
    from portal.notifications import alerts, outbox

    queued = alerts.send_digests(db.session)
    sent = outbox.deliver_pending(db.session)
    click.echo(f"{queued} digest(s) queued, {sent} message(s) sent.")


@keys_cli.command("list")
def keys_list() -> None:
    """Print every key: owner, purpose, version, status, fingerprint."""
    from portal.keys import service as keys

    for key in keys.list_keys(db.session):
        info = keys.describe(key)
        click.echo("\t".join([key.owner, info["purpose"], f"v{key.version}", info["status"], info["fingerprint"]]))


@keys_cli.command("ensure")
def keys_ensure() -> None:
    """Create the missing key pairs of every registered state and the secretariat (else made on first use)."""
    from portal.keys import service as keys

    click.echo(f"{keys.ensure_all(db.session)} key pair(s) created.")


@keys_cli.command("rotate-master")
def keys_rotate_master() -> None:
    """Re-wrap every private key under a new master key (no file content is re-encrypted).

    With the key file (default instance/master.key) a new key is generated and the old file is
    kept as master.key.<UTC timestamp>.retired (0600). With PORTAL_MASTER_KEY, put the new key in
    PORTAL_NEW_MASTER_KEY, run this, then replace PORTAL_MASTER_KEY with it.
    """
    from portal.keys import service as keys

    try:
        result = keys.rotate_master(db.session)
    except keys.KeyStoreError as error:
        fail(str(error))
    click.echo(f"master key rotated: {result.old_id} -> {result.new_id}; {result.rewrapped} private key(s) re-wrapped.")
    if result.backup is not None:
        click.echo(f"previous key kept in {result.backup} (mode 0600): store it offline, then delete it.")
    else:
        click.echo("now set PORTAL_MASTER_KEY to the value of PORTAL_NEW_MASTER_KEY and restart every process.")


@keys_cli.command("rotate-country")
@click.argument("owner")
def keys_rotate_country(owner: str) -> None:
    """New HPKE and signing keys for OWNER (ISO code, or SECRETARIAT); its data-key wraps are re-wrapped."""
    from portal.keys import service as keys

    try:
        result = keys.rotate_owner(db.session, owner.upper())
    except keys.KeyStoreError as error:
        fail(str(error))
    click.echo(f"{result.owner}: HPKE key v{result.hpke_version}, signing key v{result.signing_version}; "
               f"{result.rewrapped} data key(s) re-wrapped. Older versions stay listed as retired.")


@keys_cli.command("sync-wraps")
def keys_sync_wraps() -> None:
    """Make every attachment's data-key wraps match its item's audience (after changes to the register)."""
    from portal.attachments import service as attachments

    added, removed = attachments.sync_all(db.session)
    click.echo(f"{added} wrap(s) added, {removed} removed.")


@attachments_cli.command("sweep")
@click.option("--older-than", "hours", default=24.0, type=click.FloatRange(min=0),
              help="Remove temporary uploads older than this many hours (default 24; running uploads are recent).")
def attachments_sweep(hours: float) -> None:
    """Remove temporary uploads left by crashes (local temporary files; S3: abort stale multipart uploads)."""
    from portal.attachments import service as attachments

    store = attachments.storage()
    removed = store.sweep_temporary(older_than_seconds=hours * 3600)
    click.echo(f"{removed} stale temporary upload(s) removed from the {store.describe()}.")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_create(directory: Path) -> None:
    """Write a consistent, signed copy of the database and the attachment store into DIRECTORY (new or empty)."""
    from portal import backup

    try:
        result = backup.create_backup(directory)
    except backup.BackupError as error:
        fail(str(error), 1)
    click.echo(f"backup written to {result.directory}: database and {result.files} attachment file(s), "
               f"{sum(result.row_counts.values())} rows.")
    click.echo(f"signed by the secretariat key {result.fingerprint}")
    click.echo("  record this fingerprint apart from the backups: `backup verify` and `backup restore` "
               "take it as --fingerprint.")
    click.echo(f"The master key is NOT in the backup. It comes from {result.master_key_location}; keep a copy "
               "offline, apart from the backups (a sealed envelope or a second KMS): without it nothing restored "
               "can be decrypted, and with the backups it decrypts everything.")


@backup_cli.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--fingerprint", default=None,
              help="Secretariat signing key fingerprint to trust (default: this installation's secretariat keys).")
def backup_verify(directory: Path, fingerprint: str | None) -> None:
    """Check a backup's signature and every file's digest without restoring it."""
    from portal import backup

    try:
        fields = backup.verify_backup(directory, fingerprint)
    except backup.BackupError as error:
        fail(f"the backup does not verify: {error}", 1)
    click.echo(f"backup verified: {fields['database']['dialect']} database and {fields['store']['files']} "
               f"attachment file(s), made {fields['created_at']}, signed by {fields['signer']['fingerprint']}.")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--fingerprint", required=True,
              help="Secretariat signing key fingerprint the backup must be signed with (from `backup create`).")
def backup_restore(directory: Path, fingerprint: str) -> None:
    """Verify a backup, then restore it into the configured empty database and empty attachment store."""
    from portal import backup

    try:
        fields = backup.restore_backup(directory, fingerprint)
    except backup.BackupError as error:
        fail(f"restore failed: {error}", 1)
    click.echo(f"restored: {sum(fields['database']['row_counts'].values())} rows and {fields['store']['files']} "
               f"attachment file(s) into {current_app.config['DATABASE_URL'].split('@')[-1]} and the configured store.")
    if not backup.master_key_matches(fields):
        click.echo("Warning: the configured master key is not the one the backup's keys were wrapped with "
                   f"({fields['master_key_id']}); configure that key before serving.", err=True)


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create demonstration accounts (refused outside the development default)."""
    from portal import demo

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        fail("demo accounts exist only in the development configuration")
    countries.seed_register(db.session)
    for line in demo.seed(db.session):
        click.echo(line)


meetings_cli = AppGroup("meetings", help="Meetings: reminders.")


@meetings_cli.command("remind")
@click.option("--registration-days", default=7, type=click.IntRange(1, 60),
              help="Remind states without a delegation this many days before the registration deadline.")
@click.option("--meeting-days", default=2, type=click.IntRange(1, 30),
              help="Remind registered states and delegates this many days before the meeting.")
def meetings_remind(registration_days: int, meeting_days: int) -> None:
    """E-mail the due registration-deadline and meeting reminders (run from cron; each goes out once)."""
    from portal.meetings import notify

    run = notify.queue_reminders(db.session, registration_days=registration_days, meeting_days=meeting_days)
    click.echo(f"{run.registration} registration reminder(s) and {run.meeting} meeting reminder(s) queued.")
    _send_queued()


@click.command("screen")
@with_appcontext
@click.option("--as", "email", required=True, help="The screener's account (a state's SPOC or officer).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--threshold", type=float, default=None, help="Lowest score reported, 0 to 1 (default: the matcher's).")
@click.option("--include-inactive", is_flag=True, help="Also screen against revoked and lapsed denials.")
def screen_command(email: str, file: Path, threshold: float | None, include_inactive: bool) -> None:
    """Screen the parties of FILE.csv (name,aliases,country,address) as EMAIL; results as CSV on stdout."""
    from portal import access
    from portal.auth.service import find_user_by_email
    from portal.models.screening import ScreeningSource
    from portal.screening import schema, service

    user = find_user_by_email(db.session, email)
    if user is None or not user.is_active:
        fail(f"no active account {email!r}")
    if not access.can_screen(user):
        fail(f"{email} may not screen parties (only a state's spoc and officers do)")
    try:
        with open(file, "rb") as handle:
            data = handle.read(schema.MAX_CSV_BYTES + 1)
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    try:
        clean = schema.validate_csv(data, threshold, include_inactive)
    except ValidationFailed as error:
        fail(" ".join(v if k == "file" else f"{k}: {v}" for k, v in error.fields.items()) or error.message)
    screening = service.run_screening(db.session, user, clean, ScreeningSource.CLI)
    click.echo(service.results_csv(db.session, user, screening), nl=False)
consultations_cli = AppGroup("consultations", help="Consultations between states about denials.")


@consultations_cli.command("remind")
def consultations_remind() -> None:
    """Remind denying states of consultation deadlines 7 and 2 days ahead (run from cron; each goes out once)."""
    from portal.consultations import notify

    run = notify.queue_reminders(db.session)
    click.echo(f"{run.mails} reminder(s) queued for {run.consultations} consultation(s).")


@contact_cli.command("purge")
def contact_purge() -> None:
    """Delete messages past the retention period (CONTACT_RETENTION_DAYS) and unconfirmed ones
    whose link expired (the outbox worker does this on every round too)."""
    from portal.public import contact

    click.echo(f"{contact.purge(db.session)} message(s) deleted.")


@contact_cli.command("send-mail")
def contact_send_mail() -> None:
    """Send the confirmation and acknowledgement e-mails owed to senders now."""
    from portal.public import contact

    try:
        click.echo(f"{contact.deliver_mail(db.session)} message(s) sent.")
    except OSError as error:
        fail(f"the mail server refused or could not be reached ({error}); the worker will retry.", 1)


def init_app(app: Flask) -> None:
    for group in (db_cli, countries_cli, users_cli, audit_cli, demo_cli, tokens_cli, denials_cli, outbox_cli,
                  notify_cli, keys_cli, meetings_cli, attachments_cli, backup_cli, consultations_cli):
        app.cli.add_command(group)
    for group in (clients_cli, contact_cli):
        app.cli.add_command(group)
    app.cli.add_command(screen_command)
