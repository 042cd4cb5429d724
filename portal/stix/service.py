"""STIX 2.1 exports: one item, or a bundle of the items a feed serves the actor."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import stix2
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import access
from portal.errors import NotFound
from portal.models.item import Item, ItemKind
from portal.models.user import User
from portal.sharing import queries, service as sharing
from portal.stix import objects

MAX_BUNDLE_ITEMS = 10_000  # a bundle is one response; the TAXII collection pages through the rest


def item_bundle(session: Session, actor: User, kind: ItemKind, item_id: uuid.UUID) -> stix2.Bundle:
    """One live threat notice or denial the actor may open, with what its report refers to."""
    item = sharing.get_visible_item(session, actor, item_id, kind)
    if not access.can_export_stix(actor, item):
        raise NotFound()
    return objects.bundle(session, actor, [item])


def kind_bundle(session: Session, actor: User, kind: ItemKind, args: Mapping[str, Any]) -> stix2.Bundle:
    """The live items of `kind` the actor's feed serves (never TLP:RED), narrowed by the list filters."""
    if not access.can_read_feed(actor, kind):
        raise NotFound()
    query = queries.apply_filters(session, select(Item).where(access.feed_filter(actor, kind)), kind, args)
    items = list(session.scalars(query.order_by(Item.published_at.desc(), Item.id).limit(MAX_BUNDLE_ITEMS)))
    return objects.bundle(session, actor, items)
