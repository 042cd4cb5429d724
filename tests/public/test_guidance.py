"""The public side's guidance: only what the originating state published publicly, while it is
published and TLP:CLEAR, its current version and its files, and nothing else, on every route."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask

from portal import access
from portal.extensions import db
from portal.models import Item, PublicItem
from tests.conftest import audit_actions, post_form
from tests.public.conftest import Public, pdf_bytes
from tests.sharing.helpers import unique_word

OPENSSL = shutil.which("openssl")
ATOM = "{http://www.w3.org/2005/Atom}"


def public_paths(item_ids: list[uuid.UUID], attachment_ids: list[uuid.UUID], words: list[str]) -> list[str]:
    """Every public GET route, filled with every id (and every word as a search)."""
    paths = ["/public/", "/public/guidance", "/public/guidance.atom", "/public/contact", "/public/contact/sent"]
    # Searched for all but its last letter (the page repeats the query): a match would show the whole word.
    paths += [f"/public/guidance?q={w[:-1]}" for w in words]
    for item_id in item_ids:
        paths.append(f"/public/guidance/{item_id}")
        for attachment_id in attachment_ids:
            paths.append(f"/public/guidance/{item_id}/files/{attachment_id}")
            paths.append(f"/public/guidance/{item_id}/files/{attachment_id}/signature")
    return paths


def body_of(response: Any) -> str:
    data = response.get_data()
    if response.mimetype == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        data = b"".join(archive.read(name) for name in archive.namelist())
    return data.decode("utf-8", "replace")


def test_every_public_route_shows_only_published_clear_public_items(app: Flask, pub: Public, spoc: Any,
                                                                      secretariat: Any, make_user: Any) -> None:
    """Items in every state and marking, each with a file and a word of its own. Publication rows
    are even forced onto items that may not be public: the filter, not the service, must hold."""
    officer = make_user("officer", "DK")
    shown: dict[str, uuid.UUID] = {}
    hidden: dict[str, uuid.UUID] = {}
    files_shown: dict[str, uuid.UUID] = {}
    files_hidden: dict[str, uuid.UUID] = {}

    def word(label: str) -> str:
        return unique_word("zp") + label.replace("_", "").replace("+", "").lower()

    # Eligible: a state's CLEAR notice and the secretariat's CLEAR document, published publicly.
    for label, author, kind in (("notice", spoc, "threat_notice"), ("document", secretariat, "document")):
        w = word(label)
        item_id = pub.item(author, kind, "CLEAR", word=w, countries=() if author is secretariat else ("NO",))
        files_shown[w + "file"] = pub.attach(author, item_id, f"{w}file.pdf")
        pub.publish(author, item_id)
        shown[w] = item_id
    # Published, public row forced, but not CLEAR (or a denial): never shown.
    for tlp in ("GREEN", "AMBER", "AMBER+STRICT", "RED"):
        for kind in ("threat_notice", "document"):
            w = word(f"{kind}{tlp}")
            item_id = pub.item(spoc, kind, tlp, word=w)
            files_hidden[w + "file"] = pub.attach(spoc, item_id, f"{w}file.pdf")
            pub.force_row(item_id)
            hidden[w] = item_id
    w = word("denial")
    denial = pub.item(spoc, "denial", "CLEAR", word=w)
    files_hidden[w + "file"] = pub.attach(spoc, denial, f"{w}file.pdf")
    pub.force_row(denial)
    hidden[w] = denial
    # Unreleased CLEAR items with a forced row.
    for status in ("draft", "submitted"):
        w = word(status)
        item_id = pub.item(officer, "threat_notice", "CLEAR", status, word=w)
        files_hidden[w + "file"] = pub.attach(officer, item_id, f"{w}file.pdf")
        pub.force_row(item_id)
        hidden[w] = item_id
    # CLEAR and published, but never published publicly.
    w = word("notpublic")
    hidden[w] = pub.item(spoc, "threat_notice", "CLEAR", word=w)
    files_hidden[w + "file"] = pub.attach(spoc, hidden[w], f"{w}file.pdf")
    # Public, then withdrawn / amended to GREEN / unpublished.
    for how in ("withdrawn", "amended", "unpublished"):
        w = word(how)
        item_id = pub.item(spoc, "threat_notice", "CLEAR", word=w)
        files_hidden[w + "file"] = pub.attach(spoc, item_id, f"{w}file.pdf")
        pub.publish(spoc, item_id)
        if how == "withdrawn":
            pub.withdraw(spoc, item_id)
        elif how == "amended":
            pub.amend(spoc, item_id, tlp="GREEN", title=f"Guidance {w}", summary=f"Summary {w}", body=f"Body {w}")
        else:
            with app.app_context():
                from portal.public import service
                from tests.sharing.helpers import user

                service.unpublish_publicly(db.session, user(spoc), db.session.get(Item, item_id))
                db.session.remove()
        hidden[w] = item_id
    # An AMBER first version's file stays behind sign-in after the item is lowered to CLEAR and made public.
    w = word("lowered")
    lowered = pub.item(spoc, "threat_notice", "AMBER", word=w)
    files_hidden[w + "amberfile"] = pub.attach(spoc, lowered, f"{w}amberfile.pdf")
    pub.amend(spoc, lowered, tlp="CLEAR", title=f"Guidance {w}", summary=f"Summary {w}", body=f"Body {w}")
    files_shown[w + "clearfile"] = pub.attach(spoc, lowered, f"{w}clearfile.pdf")
    pub.publish(spoc, lowered)
    shown[w] = lowered

    client = app.test_client()  # nobody signed in
    item_ids = list(shown.values()) + list(hidden.values())
    attachment_ids = list(files_shown.values()) + list(files_hidden.values())
    words = list(shown) + list(hidden)
    leaks = []
    for path in public_paths(item_ids, attachment_ids, words):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        text = body_of(response)
        for secret in list(hidden) + list(files_hidden):
            if secret in text:
                leaks.append(f"{path} shows {secret}")
        if response.status_code == 200 and "/files/" in path:
            item_part, file_part = path.split("/guidance/")[1].split("/files/")
            attachment_id = uuid.UUID(file_part.split("/")[0])
            if attachment_id not in files_shown.values() or uuid.UUID(item_part) not in shown.values():
                leaks.append(f"{path} answered 200")
    assert not leaks, "\n".join(leaks)

    # The control: everything eligible does appear, in the list, the feed, search and its own page.
    listing = client.get("/public/guidance").get_data(as_text=True)
    feed = client.get("/public/guidance.atom").get_data(as_text=True)
    for w, item_id in shown.items():
        assert w in listing and w in feed
        assert w in client.get(f"/public/guidance?q={w[:-1]}").get_data(as_text=True)
        page = client.get(f"/public/guidance/{item_id}")
        assert page.status_code == 200 and w in page.get_data(as_text=True)
    for name in files_shown:
        assert name in listing or any(name in client.get(f"/public/guidance/{i}").get_data(as_text=True)
                                      for i in shown.values())
    # Hidden items answer 404 on their page, their publication rows notwithstanding.
    for item_id in hidden.values():
        assert client.get(f"/public/guidance/{item_id}").status_code == 404
    # Withdrawing, amending to GREEN and unpublishing ended the publication for good.
    with app.app_context():
        rows = {r.item_id for r in db.session.query(PublicItem).all()}
        db.session.remove()
    assert not rows & {hidden[w] for w in hidden if w.endswith(("withdrawn", "amended", "unpublished"))}


def test_public_pages_show_no_audience_history_or_names(app: Flask, pub: Public, spoc: Any) -> None:
    old, new = unique_word("zo"), unique_word("zn")
    item_id = pub.item(spoc, "threat_notice", "CLEAR", word=old, countries=("NO", "FR"))
    pub.attach(spoc, item_id, "evidence.pdf")
    pub.amend(spoc, item_id, tlp="CLEAR", title=f"Guidance {new}", summary=f"Summary {new}", body=f"Body {new}",
              audience={"all_subscribing": False, "countries": ["NO", "FR"], "secretariat": False, "observers": False})
    pub.publish(spoc, item_id)
    client = app.test_client()
    page = client.get(f"/public/guidance/{item_id}").get_data(as_text=True)
    assert new in page and old not in page  # the current version only
    for absent in ("Spocperson", "Dagmar", "Norway", "France", "Audience", "version 2", "Updated.", "History"):
        assert absent not in page, absent
    assert "Denmark" in page  # the originating state is named, its officials are not
    assert client.get(f"/threat-notices/{item_id}/versions/1").status_code == 302  # history stays behind sign-in


def test_publishing_publicly_is_an_explicit_confirmed_audited_act(app: Flask, pub: Public, spoc: Any,
                                                                  login_as: Any) -> None:
    item_id = pub.item(spoc, "threat_notice", "CLEAR")
    anonymous = app.test_client()
    assert anonymous.get(f"/public/guidance/{item_id}").status_code == 404  # CLEAR is not public by itself
    client = login_as(app.test_client(), spoc)
    detail = client.get(f"/threat-notices/{item_id}").get_data(as_text=True)
    assert f"/items/{item_id}/publish-publicly" in detail
    confirm = client.get(f"/items/{item_id}/publish-publicly")
    assert confirm.status_code == 200 and "Publish publicly" in confirm.get_data(as_text=True)
    assert anonymous.get(f"/public/guidance/{item_id}").status_code == 404  # the confirmation page changed nothing
    response = post_form(client, f"/items/{item_id}/publish-publicly", page=f"/items/{item_id}/publish-publicly")
    assert response.status_code == 303
    assert anonymous.get(f"/public/guidance/{item_id}").status_code == 200
    assert "item.published_publicly" in audit_actions(app, item_id)
    # Unpublishing takes it away at once.
    assert f"/items/{item_id}/unpublish-publicly" in client.get(f"/threat-notices/{item_id}").get_data(as_text=True)
    response = post_form(client, f"/items/{item_id}/unpublish-publicly", page=f"/items/{item_id}/unpublish-publicly")
    assert response.status_code == 303
    assert anonymous.get(f"/public/guidance/{item_id}").status_code == 404
    assert item_id.hex not in anonymous.get("/public/guidance.atom").get_data(as_text=True).replace("-", "")
    assert "item.unpublished_publicly" in audit_actions(app, item_id)


@pytest.mark.parametrize("who", ["officer_dk", "spoc_fr", "secretariat", "admin", "reader_dk"])
def test_only_the_originating_spoc_may_publish_publicly(app: Flask, pub: Public, spoc: Any, make_user: Any,
                                                        login_as: Any, who: str) -> None:
    role, _, country = who.partition("_")
    other = make_user(role, country.upper() if country else None)
    item_id = pub.item(spoc, "threat_notice", "CLEAR", countries=("FR",))
    client = login_as(app.test_client(), other)
    assert client.get(f"/items/{item_id}/publish-publicly").status_code in (403, 404)
    assert client.post(f"/items/{item_id}/publish-publicly").status_code in (400, 403, 404)
    assert not pub.is_public(item_id)


def test_publish_publicly_predicate(app: Flask, pub: Public, spoc: Any, secretariat: Any, make_user: Any) -> None:
    from tests.sharing.helpers import user

    clear = pub.item(spoc, "threat_notice", "CLEAR")
    green = pub.item(spoc, "threat_notice", "GREEN")
    denial = pub.item(spoc, "denial", "CLEAR")
    draft = pub.item(spoc, "threat_notice", "CLEAR", "draft")
    withdrawn = pub.item(spoc, "threat_notice", "CLEAR", "withdrawn")
    own_doc = pub.item(secretariat, "document", "CLEAR", countries=())
    state_doc = pub.item(spoc, "document", "CLEAR")
    with app.app_context():
        def get(i: uuid.UUID) -> Item:
            found = db.session.get(Item, i)
            assert found is not None
            return found
        dk, sec = user(spoc), user(secretariat)
        assert access.can_publish_publicly(dk, get(clear), False)
        assert not access.can_publish_publicly(dk, get(clear), True)  # already public
        assert access.can_unpublish_publicly(dk, get(clear), True)
        assert not access.can_unpublish_publicly(dk, get(clear), False)
        for refused in (green, denial, draft, withdrawn):
            assert not access.can_publish_publicly(dk, get(refused), False)
        assert access.can_publish_publicly(dk, get(state_doc), False)
        assert access.can_publish_publicly(sec, get(own_doc), False)
        assert not access.can_publish_publicly(sec, get(state_doc), False)
        assert not access.can_publish_publicly(dk, get(own_doc), False)
        db.session.remove()


def test_amended_back_to_clear_stays_off_until_published_again(app: Flask, pub: Public, spoc: Any) -> None:
    """Decision: leaving CLEAR (or being withdrawn) ends the publication; it never comes back by itself."""
    item_id = pub.item(spoc, "threat_notice", "CLEAR")
    pub.publish(spoc, item_id)
    client = app.test_client()
    assert client.get(f"/public/guidance/{item_id}").status_code == 200
    pub.amend(spoc, item_id, tlp="AMBER")
    assert client.get(f"/public/guidance/{item_id}").status_code == 404
    assert "item.public_publication_ended" in audit_actions(app, item_id)
    pub.amend(spoc, item_id, tlp="CLEAR")
    assert client.get(f"/public/guidance/{item_id}").status_code == 404
    assert not pub.is_public(item_id)
    pub.publish(spoc, item_id)
    assert client.get(f"/public/guidance/{item_id}").status_code == 200


def test_a_clear_amendment_of_a_public_item_shows_the_new_version(app: Flask, pub: Public, spoc: Any) -> None:
    item_id = pub.item(spoc, "threat_notice", "CLEAR", word="zqfirstversion")
    pub.publish(spoc, item_id)
    pub.amend(spoc, item_id, tlp="CLEAR", title="Guidance zqsecondversion")
    page = app.test_client().get(f"/public/guidance/{item_id}").get_data(as_text=True)
    assert "zqsecondversion" in page and "zqfirstversion" not in page


def _bundle(client: Any, item_id: uuid.UUID, attachment_id: uuid.UUID) -> zipfile.ZipFile:
    response = client.get(f"/public/guidance/{item_id}/files/{attachment_id}/signature")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_public_file_decrypts_and_verifies_with_openssl(app: Flask, pub: Public, spoc: Any, tmp_path: Path) -> None:
    data = pdf_bytes(150_000)
    item_id = pub.item(spoc, "threat_notice", "CLEAR")
    attachment_id = pub.attach(spoc, item_id, "guide.pdf", data)
    pub.publish(spoc, item_id)
    client = app.test_client()
    response = client.get(f"/public/guidance/{item_id}/files/{attachment_id}")
    assert response.status_code == 200
    assert response.get_data() == data  # decrypted for the public
    assert response.headers["Content-Disposition"].startswith("attachment;")
    bundle = _bundle(client, item_id, attachment_id)
    assert sorted(bundle.namelist()) == ["VERIFY.txt", "manifest.json", "manifest.sig", "signer.pem"]
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["plaintext_sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["signer"] == "DK" and manifest["tlp"] == "CLEAR" and manifest["item_id"] == str(item_id)
    # No official's name or id, no upload time, no version: the public side shows no names or history.
    raw = bundle.read("manifest.json").decode()
    assert "Spocperson" not in raw and str(spoc.id) not in raw
    assert not {"uploader_name", "uploaded_by", "uploaded_at", "item_version"} & set(manifest)
    folder = tmp_path / "good"
    bundle.extractall(folder)
    result = subprocess.run([OPENSSL or "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
                             "-in", "manifest.json", "-sigfile", "manifest.sig"],
                            cwd=folder, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    (folder / "manifest.json").write_bytes(raw.replace("guide.pdf", "other.pdf").encode())
    changed = subprocess.run([OPENSSL or "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
                              "-in", "manifest.json", "-sigfile", "manifest.sig"],
                             cwd=folder, capture_output=True, text=True, check=False)
    assert changed.returncode != 0
    # Unpublished: file and bundle answer 404 at once.
    with app.app_context():
        db.session.delete(db.session.get(PublicItem, item_id))
        db.session.commit()
        db.session.remove()
    assert client.get(f"/public/guidance/{item_id}/files/{attachment_id}").status_code == 404
    assert client.get(f"/public/guidance/{item_id}/files/{attachment_id}/signature").status_code == 404


def test_public_signer_key_is_the_published_one(app: Flask, pub: Public, spoc: Any, login_as: Any) -> None:
    item_id = pub.item(spoc, "threat_notice", "CLEAR")
    attachment_id = pub.attach(spoc, item_id, "guide.pdf")
    pub.publish(spoc, item_id)
    bundle = _bundle(app.test_client(), item_id, attachment_id)
    keys = login_as(app.test_client(), spoc).get("/keys").get_json()["keys"]
    published = [k for k in keys if k["owner"] == "DK" and k["purpose"] == "signing"]
    assert bundle.read("signer.pem").decode() in [k["public_key_pem"] for k in published]


def test_feed_is_valid_atom_and_escapes_titles(app: Flask, pub: Public, spoc: Any) -> None:
    item_id = pub.item(spoc, "threat_notice", "CLEAR", title="Tools <script>alert(1)</script> & more")
    pub.publish(spoc, item_id)
    response = app.test_client().get("/public/guidance.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.get_data())
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}title") == "Tools <script>alert(1)</script> & more"
    assert entries[0].findtext(f"{ATOM}id") == f"urn:uuid:{item_id}"
    assert f"/public/guidance/{item_id}" in entries[0].find(f"{ATOM}link").get("href")  # type: ignore[union-attr]


def test_search_treats_wildcards_as_text(app: Flask, pub: Public, spoc: Any) -> None:
    item_id = pub.item(spoc, "threat_notice", "CLEAR", word="zqwild")
    pub.publish(spoc, item_id)
    client = app.test_client()
    assert "zqwild" in client.get("/public/guidance?q=zqwild").get_data(as_text=True)
    assert "zqwild" not in client.get("/public/guidance?q=%25").get_data(as_text=True)
    assert "zqwild" not in client.get("/public/guidance?q=zq_ild").get_data(as_text=True)


def test_home_lists_the_register_with_endorsement_dates(app: Flask) -> None:
    from tests.sharing.helpers import add_observer_state

    add_observer_state(app, "CR", "Costa Rica")
    page = app.test_client().get("/public/").get_data(as_text=True)
    assert "Albania" in page and "Republic of Korea" in page and "30 March 2023" in page
    assert "Observer states" in page and "Costa Rica" in page
    assert "/public/contact" in page
