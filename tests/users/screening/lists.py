"""Building watchlists for tests: FollowTheMoney records through the real importer."""

from __future__ import annotations

import io
import json

from compliance.audit import Actor
from users.models import WatchlistSource
from users.screening.services import import_file, watchlist_source_create

ACTOR = Actor.system_actor("tests")


def source(code: str = "sdn-test", kind: str = "SANCTIONS") -> WatchlistSource:
    found = WatchlistSource.objects.filter(code=code).first()
    if found:
        return found
    return watchlist_source_create(
        actor=ACTOR, fields={"code": code, "name": code.upper(), "kind": kind, "format": "ftm_json"}
    )


def entity(
    entity_id: str,
    name: str,
    *,
    schema: str = "Person",
    aliases: tuple[str, ...] = (),
    weak_aliases: tuple[str, ...] = (),
    birth_date: str | None = None,
    nationality: str | None = None,
    country: str | None = None,
    programme: str | None = None,
) -> dict:
    """One FtM entity as OpenSanctions publishes it (only the properties given)."""
    props: dict[str, list[str]] = {"name": [name]}
    if aliases:
        props["alias"] = list(aliases)
    if weak_aliases:
        props["weakAlias"] = list(weak_aliases)
    if birth_date:
        props["birthDate"] = [birth_date]
    if nationality:
        props["nationality"] = [nationality]
    if country:
        props["country"] = [country]
    if programme:
        props["program"] = [programme]
    return {"id": entity_id, "schema": schema, "caption": name, "properties": props}


def load(entities: list[dict], *, code: str = "sdn-test", kind: str = "SANCTIONS"):
    """Import `entities` as the whole content of source `code` (a full import: entries the
    list no longer holds are removed). Answers the import run."""
    text = "".join(json.dumps(e) + "\n" for e in entities)
    return import_file(
        source=source(code, kind), fileobj=io.BytesIO(text.encode()), fmt="ftm_json", actor=ACTOR
    )
