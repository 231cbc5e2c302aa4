"""Catalogue commands: people, consent, biometrics, enrolment, index, review, render,
fluid consent, find, report, audit, backup.

Every command finds the catalogue through ``--catalogue`` or ``PHOTOGUARD_CATALOGUE``
and the master key as described in :mod:`photoguard_core.keyfile`.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

import click

from photoguard_core.audit import filter_entries, flag_bursts, seal_head
from photoguard_core.audit_check import verify_audit
from photoguard_core.backup import BackupError
from photoguard_core.batch import collect
from photoguard_core.catalogue.sqlite_store import SQLiteCatalogue
from photoguard_core.cli.app import main
from photoguard_core.consent import DEFAULT_PURPOSES, load_purposes
from photoguard_core.context import DETECTION_ONLY, Context
from photoguard_core.crypto import CryptoError, MasterKey, resolve_master_key
from photoguard_core.errors import PhotoguardError
from photoguard_core.filehash import sha256_file
from photoguard_core.keyfile import key_file_for

_catalogue_option = click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PHOTOGUARD_CATALOGUE",
    required=True,
    help="The catalogue file (or PHOTOGUARD_CATALOGUE).",
)
_key_option = click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Master key file (default: PHOTOGUARD_KEY_FILE, else under ~/.config/photoguard/keys).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def catalogue_command(name: str | None = None, group: click.Group = main):
    """Decorator: a command that receives an open :class:`Context` as ``ctx``."""

    def wrap(fn):
        def command(catalogue_path: Path, key_file: Path | None, actor: str | None, **kwargs):
            ctx = open_context(catalogue_path, key_file, actor)
            try:
                return fn(ctx, **kwargs)
            except (PhotoguardError, CryptoError, BackupError, ValueError) as err:
                _fail(str(err))
            finally:
                ctx.store.close()

        # Keep the command's own arguments and options, then add the shared ones.
        command.__click_params__ = list(getattr(fn, "__click_params__", []))
        command.__doc__ = fn.__doc__
        command.__name__ = fn.__name__
        command = _actor_option(_key_option(_catalogue_option(command)))
        return group.command(name or fn.__name__.replace("_", "-"))(command)

    return wrap


_actor_option = click.option(
    "--actor",
    envvar="PHOTOGUARD_ACTOR",
    default=None,
    help="Who is acting, for the audit log (default: the login name).",
)


def open_context(path: Path, key_file: Path | None, actor: str | None) -> Context:
    if not path.exists():
        _fail(f"no catalogue at {path}: run `photoguard init --catalogue {path}` first", code=2)
    try:
        master = resolve_master_key(key_file_for(path, key_file))
    except Exception as err:  # noqa: BLE001 - the message names where it looked
        _fail(f"cannot load the master key: {err}", code=2)
    store = SQLiteCatalogue(path)
    store.sealer = lambda seq, digest: seal_head(master, seq, digest)
    return Context(store=store, master=master, actor=actor or _login())


# --- init -----------------------------------------------------------------------------


@main.command()
@_catalogue_option
@_key_option
@click.option("--detection-only", is_flag=True, help="No recognition at all; faces named by hand.")
@click.option(
    "--purposes",
    "purposes_file",
    type=click.Path(exists=True, path_type=Path),
    help="JSON file overriding or adding purposes.",
)
def init(
    catalogue_path: Path, key_file: Path | None, detection_only: bool, purposes_file: Path | None
) -> None:
    """Create a catalogue and its master key (kept outside the catalogue)."""
    if catalogue_path.exists():
        _fail(f"{catalogue_path} already exists; nothing changed", code=2)
    purposes = DEFAULT_PURPOSES
    if purposes_file:
        purposes = load_purposes(json.loads(purposes_file.read_text()))
    key_path = key_file_for(catalogue_path, key_file)
    if os.environ.get("PHOTOGUARD_MASTER_KEY"):
        master = MasterKey.from_env()
        where = "the PHOTOGUARD_MASTER_KEY environment variable"
    elif key_path.exists():
        master = MasterKey.load(key_path)
        where = str(key_path)
    else:
        master = MasterKey.generate()
        key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        master.save(key_path)
        where = str(key_path)
    catalogue_path.parent.mkdir(parents=True, exist_ok=True)
    store = SQLiteCatalogue(catalogue_path)
    store.sealer = lambda seq, digest: seal_head(master, seq, digest)
    store.save_purposes(purposes)
    store.set_setting(DETECTION_ONLY, "1" if detection_only else "0")
    store.audit(
        _login(),
        "config_change",
        "catalogue",
        str(catalogue_path.name),
        {"init": True, "detection_only": detection_only, "purposes": sorted(purposes)},
    )
    store.close()
    click.echo(f"catalogue created: {catalogue_path}")
    click.echo(
        f"master key: {where} (back it up separately; without it embeddings and "
        "backups cannot be read)"
    )


# --- people ---------------------------------------------------------------------------


@main.group()
def people() -> None:
    """People, groups and flags (import/export a school information system CSV)."""


@catalogue_command("import", group=people)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="SOURCE=COLUMN",
    help="Rename a source column, e.g. --map UPN=id (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@_json_option
def people_import(ctx, csv_file: Path, mappings: tuple[str, ...], dry_run: bool, as_json: bool):
    """Import people, groups, flags and consent from a CSV.

    Columns: id,first_name,last_name,role,groups (plus optional date_of_birth, flags,
    consent_<purpose>, consent_<purpose>_until).
    """
    from photoguard_core.consent_records import import_people

    mapping = dict(m.split("=", 1) for m in mappings) if mappings else None
    report = import_people(
        ctx, csv_file.read_text(encoding="utf-8-sig"), mapping=mapping, dry_run=dry_run
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        verb = "would be" if dry_run else "were"
        click.echo(
            f"{len(report.created)} people {verb} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged; {len(report.consents)} consent entries "
            f"{verb} recorded"
        )
    for error in report.errors:
        click.echo(f"  ERROR {error}", err=True)
    if report.errors:
        sys.exit(1)


@catalogue_command("export", group=people)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def people_export(ctx, out: Path | None):
    """Export people and current consent in the import format."""
    from photoguard_core.consent_records import export_people

    text = export_people(ctx)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"written {out}", err=True)
    else:
        click.echo(text, nl=False)


@catalogue_command("flag", group=people)
@click.argument("person_id")
@click.argument("flags", nargs=-1)
def people_flag(ctx, person_id: str, flags: tuple[str, ...]):
    """Set a person's vulnerability flags (none = clear): looked_after, adopted, at_risk,
    protected_identity, never_publish."""
    from photoguard_core.consent_records import set_flags

    impact = set_flags(ctx, person_id, set(flags))
    click.echo(
        f"{person_id}: flags {', '.join(flags) or 'cleared'}; "
        f"{len(impact.renditions)} copies re-rendered"
    )


# --- consent and biometrics -----------------------------------------------------------


@main.group()
def consent() -> None:
    """The consent ledger (append-only)."""


@catalogue_command("set", group=consent)
@click.argument("person_id")
@click.argument("purpose")
@click.argument("status", type=click.Choice(["granted", "refused", "withdrawn"]))
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Consent expires after this day.",
)
@click.option("--source", default="staff entry", show_default=True)
@_json_option
def consent_set(ctx, person_id, purpose, status, until, source, as_json):
    """Record consent for PERSON_ID and PURPOSE; affected copies are re-rendered."""
    from photoguard_core.consent_records import set_consent

    entry, impact = set_consent(
        ctx, person_id, purpose, status, until=until.date() if until else None, source=source
    )
    if as_json:
        click.echo(json.dumps(impact.to_dict(), indent=2))
        return
    click.echo(
        f"{person_id} {purpose}: {status}"
        + (f" until {entry.valid_until}" if entry.valid_until else "")
    )
    click.echo(
        f"  {len(impact.photos)} photos affected, {len(impact.renditions)} copies "
        f"re-rendered, {len(impact.usages)} usages to update"
    )


@catalogue_command("show", group=consent)
@click.argument("person_id")
@_json_option
def consent_show(ctx, person_id, as_json):
    """The ledger history of PERSON_ID and what is in force now."""
    from photoguard_core.consent import consent_as_of

    entries = ctx.store.consent_entries([person_id])
    now = ctx.now()
    current = {p: consent_as_of(entries, person_id, p, now) for p in ctx.store.purposes()}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "person_id": person_id,
                    "history": [_entry_dict(e) for e in entries],
                    "now": {
                        p: {"covered": s.covered, "status": s.status, "reason": s.reason}
                        for p, s in current.items()
                    },
                },
                indent=2,
            )
        )
        return
    for purpose, state in current.items():
        click.echo(
            f"{purpose:16} {'covered' if state.covered else 'NOT covered':12} {state.reason}"
        )
    click.echo("history:")
    for e in entries:
        click.echo(
            f"  {e.recorded_at:%Y-%m-%d %H:%M} {e.purpose:16} {e.status.value:9} "
            f"until {e.valid_until or '-'}  by {e.recorded_by} ({e.source})"
        )


@main.group()
def biometric() -> None:
    """Biometric consent (Protection of Freedoms Act 2012 for under-18s)."""


@catalogue_command("set", group=biometric)
@click.argument("person_id")
@click.argument("response", type=click.Choice(["granted", "objected", "withdrawn"]))
@click.option(
    "--respondent",
    type=click.Choice(["parent", "child", "self"]),
    default="parent",
    show_default=True,
)
@click.option("--name", "respondent_name", default="", help="Who answered (e.g. the parent).")
@click.option("--verbal", is_flag=True, help="Not in writing (does not count as PoFA consent).")
@_json_option
def biometric_set(ctx, person_id, response, respondent, respondent_name, verbal, as_json):
    """Record a biometric consent response; an objection deletes templates at once."""
    from photoguard_core.enrolment import record_biometric

    change = record_biometric(
        ctx,
        person_id,
        response,
        respondent=respondent,
        respondent_name=respondent_name,
        in_writing=not verbal,
    )
    if as_json:
        click.echo(json.dumps(change.__dict__, indent=2))
        return
    state = "allowed" if change.allowed_after else "not allowed"
    click.echo(f"{person_id}: recognition {state}: {change.reason}")
    if change.shredded:
        click.echo(
            "  templates and face embeddings deleted (crypto-shredded); "
            "their faces are now unknown, so redacted"
        )


@catalogue_command()
@click.argument("person_id")
@click.argument(
    "photos", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_json_option
def enrol(ctx, person_id, photos, as_json):
    """Enrol PERSON_ID from reference photos (needs biometric consent)."""
    from photoguard_core.enrolment import enrol as enrol_person
    from photoguard_core.indexing import load_templates, match_photo

    added = enrol_person(ctx, person_id, list(photos))
    templates = load_templates(ctx)
    for photo_id in ctx.store.photos_with_faces_to_match():
        with ctx.store.transaction():
            match_photo(ctx, photo_id, templates)
    if as_json:
        click.echo(json.dumps({"person_id": person_id, "templates_added": added}))
        return
    click.echo(f"{person_id}: {added} template(s) added; catalogue re-matched")


# --- index, review, render ------------------------------------------------------------


@catalogue_command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--force", is_flag=True, help="Index again even if already indexed.")
@_json_option
def index(ctx, paths, workers, force, as_json):
    """Index photos: faces found, encoded (with consent), matched. Resumable."""
    from photoguard_core.indexing import index_files

    files, missing = collect(paths)
    if missing:
        _fail("no such file or folder: " + ", ".join(missing), code=2)
    summary = index_files(ctx, files, workers=workers, force=force)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    click.echo(
        f"{summary.indexed} indexed, {summary.skipped} already indexed, "
        f"{len(summary.failed)} failed; {summary.faces} faces, {summary.matched} matched",
        err=True,
    )
    for source, error in summary.failed:
        click.echo(f"  FAILED {source}: {error}", err=True)
    if summary.failed:
        sys.exit(1)


@catalogue_command()
@click.option("--accept", nargs=2, metavar="FACE_ID PERSON_ID", default=None)
@click.option("--reject", "reject_face", type=int, metavar="FACE_ID", default=None)
@click.option(
    "--add-box",
    nargs=2,
    metavar="PHOTO_ID X,Y,W,H",
    default=None,
    help="A face the detector missed.",
)
@click.option("--person", default=None, help="With --add-box: who it is.")
@_json_option
def review(ctx, accept, reject_face, add_box, person, as_json):
    """The review queue; confirm or reject a match, or add a missed face."""
    from photoguard_core import review as rv
    from photoguard_core.geometry import Box

    if accept:
        rv.accept(ctx, int(accept[0]), accept[1])
        click.echo(f"face {accept[0]} confirmed as {accept[1]}")
        return
    if reject_face is not None:
        rv.reject(ctx, reject_face)
        click.echo(f"face {reject_face}: match rejected")
        return
    if add_box:
        x, y, w, h = (float(v) for v in add_box[1].split(","))
        face_id = rv.add_box(ctx, int(add_box[0]), Box.from_xywh(x, y, w, h), person)
        click.echo(f"face {face_id} added to photo {add_box[0]}")
        return
    faces = rv.queue(ctx)
    if as_json:
        click.echo(json.dumps([_face_dict(f) for f in faces], indent=2))
        return
    for f in faces:
        hint = f" (nearest: {f.candidate}, {f.distance:.2f})" if f.candidate and f.distance else ""
        click.echo(f"face {f.id:5d}  photo {f.photo_id:5d}  {f.assignment:9}{hint}")
    click.echo(f"{len(faces)} faces waiting for review", err=True)


@catalogue_command()
@click.argument("photos", nargs=-1, required=True)
@click.option("--purpose", required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@_json_option
def render(ctx, photos, purpose, out_dir, as_json):
    """Copies of PHOTO... (paths or photo ids) for PURPOSE, redacted by consent."""
    from photoguard_core.indexing import index_files
    from photoguard_core.publishing import purpose_named, render_for_purpose

    purpose_named(ctx, purpose)
    ids = _photo_ids(ctx, photos, index_files)
    results = [render_for_purpose(ctx, pid, purpose, out_dir) for pid in ids]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            click.echo(
                f"photo {r.photo_id}: {r.outcome}"
                + (f" -> {r.path}" if r.path else "")
                + (f" ({r.error})" if r.error else "")
            )
    failed = [r for r in results if r.outcome == "failed"]
    click.echo(f"{len(results) - len(failed)} of {len(results)} rendered for {purpose}", err=True)
    if failed:
        sys.exit(1)


@catalogue_command("usage")
@click.argument("photo")
@click.option("--purpose", required=True)
@click.option("--location", required=True, help="Where it is published (URL, page, share).")
def usage(ctx, photo, purpose, location):
    """Record where a copy of PHOTO is published, so consent changes can find it."""
    from photoguard_core.indexing import index_files

    (photo_id,) = _photo_ids(ctx, (photo,), index_files)
    ctx.store.add_usage(photo_id, purpose, location, by=ctx.actor)
    ctx.store.audit(
        ctx.actor, "usage", "photo", str(photo_id), {"purpose": purpose, "location": location}
    )
    click.echo(f"photo {photo_id}: used for {purpose} at {location}")


@catalogue_command()
@click.argument("photos", nargs=-1, required=True)
@click.option("--event", default=None, help="The event the photos belong to.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
def label(ctx, photos, event, tags):
    """Put PHOTO... (paths or ids) in an event and/or tag them, for finding later."""
    from photoguard_core.indexing import index_files

    ids = _photo_ids(ctx, photos, index_files)
    with ctx.store.transaction():
        for photo_id in ids:
            if event:
                ctx.store.set_event(photo_id, event)
            ctx.store.add_tags(photo_id, tags)
    click.echo(f"{len(ids)} photo(s) labelled")


# --- fluid consent, find, report --------------------------------------------------------


@catalogue_command()
@click.option("--person", "person_id", required=True)
@click.option("--purpose", default=None)
@_json_option
def affected(ctx, person_id, purpose, as_json):
    """Photos, copies and usages that show PERSON (for PURPOSE, or every purpose)."""
    from photoguard_core.fluid import Change, affected_by

    # Everything that shows the person is what any change of theirs can reach.
    impact = affected_by(ctx, Change("flags", person_id=person_id))
    if purpose:
        impact.renditions = [r for r in impact.renditions if r.purpose == purpose]
        impact.usages = [u for u in impact.usages if u.purpose == purpose]
    if as_json:
        click.echo(json.dumps(impact.to_dict(), indent=2))
        return
    click.echo(
        f"{len(impact.photos)} photos, {len(impact.renditions)} copies, {len(impact.usages)} usages"
    )
    for u in impact.usages:
        click.echo(f"  photo {u.photo_id} {u.purpose}: {u.location}")


@catalogue_command()
@click.option("--person", default=None)
@click.option("--group", default=None)
@click.option("--event", default=None)
@click.option("--tag", default=None)
@click.option("--purpose", default=None)
@click.option("--status", type=click.Choice(["covered", "not-covered", "withheld"]), default=None)
@click.option("--needs-review", is_flag=True)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Taken on or after.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Taken on or before."
)
@_json_option
def find(ctx, person, group, event, tag, purpose, status, needs_review, since, until, as_json):
    """Find photos by person, group, event, tag, consent status or review state."""
    from photoguard_core.finder import Query
    from photoguard_core.finder import find as run_find

    if status and not purpose:
        _fail("--status needs --purpose", code=2)
    query = Query(
        person,
        group,
        event,
        tag,
        purpose,
        status,
        needs_review,
        since=since.date() if since else None,
        until=until.date() if until else None,
    )
    photos = run_find(ctx, query)
    if as_json:
        click.echo(
            json.dumps(
                [{"id": p.id, "location": p.location, "sha256": p.sha256} for p in photos], indent=2
            )
        )
        return
    for p in photos:
        click.echo(f"{p.id:6d}  {p.location}")
    click.echo(f"{len(photos)} photos", err=True)


@catalogue_command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--expiring-days", default=30, show_default=True)
def report(ctx, out_dir, expiring_days):
    """HTML report: copies no longer covered and where used, expiring consent, review queue."""
    from photoguard_core.report.catalogue_report import write_catalogue_report

    path = write_catalogue_report(ctx, out_dir, expiring_days=expiring_days)
    click.echo(f"report written: {path}")


# --- audit and backup -----------------------------------------------------------------


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@catalogue_command("verify", group=audit)
@_json_option
def audit_verify(ctx, as_json):
    """Check the hash chain and its sealed head; exit 1 if anything was altered."""
    result = verify_audit(ctx)
    if as_json:
        click.echo(
            json.dumps(
                {"ok": result.ok, "checked": result.checked, "problems": result.problems}, indent=2
            )
        )
    else:
        click.echo(
            f"audit chain {'intact' if result.ok else 'BROKEN'}: {result.checked} entries checked"
        )
        for problem in result.problems:
            click.echo(f"  {problem}")
    if not result.ok:
        sys.exit(1)


@catalogue_command("show", group=audit)
@click.option("--person", default=None)
@click.option("--user", "user", default=None, help="Only entries by this user.")
@click.option("--action", default=None)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@_json_option
def audit_show(ctx, person, user, action, since, until, as_json):
    """Audit entries filtered by person, user, action and time; bursts flagged."""
    from datetime import UTC

    entries = filter_entries(
        ctx.store.audit_entries(),
        person=person,
        actor=user,
        action=action,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    bursts = flag_bursts(ctx.store.audit_entries())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "entries": [e.__dict__ for e in entries],
                    "bursts": [b.__dict__ for b in bursts],
                },
                indent=2,
                default=str,
            )
        )
        return
    for e in entries:
        click.echo(
            f"{e.seq:6d} {e.at[:19]} {e.actor:12} {e.action:16} "
            f"{e.object_type}:{e.object_id} {json.dumps(e.details, sort_keys=True)}"
        )
    for b in bursts:
        click.echo(
            f"BURST: {b.actor} {b.action} x{b.count} between {b.start} and {b.end}", err=True
        )


@catalogue_command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def backup(ctx, out):
    """A consistent, encrypted copy of the live catalogue."""
    from photoguard_core.backup import backup_sqlite

    out.parent.mkdir(parents=True, exist_ok=True)
    info = backup_sqlite(ctx.store.path, out, ctx.master)
    ctx.store.audit(ctx.actor, "backup", "catalogue", ctx.store.path.name, {"out": str(out)})
    click.echo(f"backup written: {out} ({getattr(info, 'size', '')})")


@main.command()
@_catalogue_option
@_key_option
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(catalogue_path: Path, key_file: Path | None, backup_file: Path) -> None:
    """Replace the catalogue with BACKUP_FILE after checking its audit chain."""
    from photoguard_core.backup import restore_sqlite

    master = resolve_master_key(key_file_for(catalogue_path, key_file))

    def verify(db: Path):
        store = SQLiteCatalogue(db)
        try:
            return verify_audit(Context(store=store, master=master))
        finally:
            store.close()

    try:
        restore_sqlite(backup_file, catalogue_path, master, verify=verify)
    except Exception as err:  # noqa: BLE001 - reported, nothing replaced
        _fail(f"restore refused, nothing replaced: {err}")
    click.echo(f"catalogue restored from {backup_file}")


# --- helpers --------------------------------------------------------------------------


def _photo_ids(ctx: Context, photos, index_files) -> list[int]:
    ids = []
    for item in photos:
        if str(item).isdigit() and not Path(item).exists():
            ids.append(int(item))
            continue
        path = Path(item)
        if not path.is_file():
            _fail(f"{item}: no such photo id or file", code=2)
        index_files(ctx, [path], workers=1)
        record = ctx.store.photo_by_sha(sha256_file(path)[0])
        ids.append(record.id)
    return ids


def _entry_dict(e) -> dict:
    return {
        "purpose": e.purpose,
        "status": e.status.value,
        "valid_from": e.valid_from.isoformat(),
        "valid_until": e.valid_until.isoformat() if e.valid_until else None,
        "recorded_at": e.recorded_at.isoformat(),
        "recorded_by": e.recorded_by,
        "source": e.source,
    }


def _face_dict(f) -> dict:
    return {
        "id": f.id,
        "photo_id": f.photo_id,
        "box_xywh": f.box.to_xywh(),
        "assignment": f.assignment,
        "candidate": f.candidate,
        "distance": f.distance,
    }


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
