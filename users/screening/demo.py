"""Demo watchlist for `make run` (setup_demo): a small sanctions list loaded through the real
importer before the demo customers are created, so creating them screens them and the demo
shows a hit, its alert and its case (John Doe is listed as "Jonathan Doe", same birth date)."""

from pathlib import Path

from compliance.audit import Actor
from users.models import WatchlistSource
from users.screening.services import import_file, watchlist_source_create

DEMO_LIST = Path(__file__).parent / "data" / "demo_list.ftm.json"
CODE = "demo-sanctions"


def load(stdout) -> None:
    if WatchlistSource.objects.filter(code=CODE).exists():
        stdout.write("Demo watchlist exists already.")
        return
    actor = Actor.system_actor("setup_demo")
    source = watchlist_source_create(
        actor=actor,
        fields={"code": CODE, "name": "Demo sanctions list", "kind": "SANCTIONS", "format": "ftm_json"},
    )
    with DEMO_LIST.open("rb") as fileobj:
        run = import_file(source=source, fileobj=fileobj, fmt="ftm_json", actor=actor)
    stdout.write(f"Demo watchlist: {run.added} entries in {source.name}.")
