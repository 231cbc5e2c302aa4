"""Reports people can read: one self-contained HTML file with thumbnails.

Thumbnails are embedded as data URIs so the report can be mailed or opened from a
USB stick without its folder. "Before" thumbnails are made from the original and
show what the file would reveal, so the report is for staff, not for publishing;
the thumbnails themselves are re-encoded without any metadata.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from PIL import ImageDraw

from photoguard_core.geometry import Box
from photoguard_core.images import open_image
from photoguard_core.render.encode import encode_image

THUMB_SIZE = 320


@dataclass
class ReportItem:
    """One photo in a report: where it came from, what happened, what came out."""

    source: Path
    ok: bool
    output: Path | None = None
    error: str | None = None
    manifest: dict = field(default_factory=dict)


def write_report(
    items: list[ReportItem], out_path: Path, *, title: str, subtitle: str = ""
) -> Path:
    """Write the HTML report to ``out_path`` and return it."""
    template = Template(
        resources.files(__package__).joinpath("templates/rendition_report.html").read_text("utf-8")
    )
    page = template.substitute(
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        summary=_summary(items),
        items="\n".join(_item_html(item) for item in items),
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page, encoding="utf-8")
    return out_path


def thumbnail_data_uri(source: Path | bytes, boxes: list[Box] | None = None) -> str | None:
    """A small upright JPEG of ``source`` as a data URI, with ``boxes`` outlined."""
    try:
        decoded = open_image(source, target_long_side=THUMB_SIZE * 2)
    except Exception:  # the report still lists the file; it just has no picture
        return None
    image = decoded.image
    scale = THUMB_SIZE / max(image.size)
    thumb = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    if boxes:
        to_thumb = thumb.width / decoded.full_size[0]
        draw = ImageDraw.Draw(thumb)
        for box in boxes:
            draw.rectangle(box.scaled(to_thumb).to_int(), outline=(230, 30, 30), width=2)
    data = encode_image(thumb, "jpeg", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _summary(items: list[ReportItem]) -> str:
    done = [i for i in items if i.ok]
    faces = sum(i.manifest.get("faces_redacted", 0) for i in done)
    removed = sum(len(i.manifest.get("metadata_removed", [])) for i in done)
    failed = len(items) - len(done)
    text = (
        f"{len(done)} of {len(items)} photos made safe; {faces} faces redacted; "
        f"{removed} kinds of metadata removed"
    )
    if failed:
        text += f'; <span class="bad">{failed} failed and produced no copy</span>'
    return text


def _item_html(item: ReportItem) -> str:
    face_boxes = [Box.from_xywh(*f["box_xywh"]) for f in item.manifest.get("faces", [])]
    before = thumbnail_data_uri(item.source, face_boxes)
    parts = [f'<div class="photo{"" if item.ok else " failed"}">']
    parts.append(f"<h2>{html.escape(item.source.name)}</h2>")
    parts.append('<div class="pair">')
    parts.append(_figure(before, "before: faces found outlined"))
    if item.ok and item.output is not None:
        parts.append(_figure(thumbnail_data_uri(item.output), f"after: {item.output.name}"))
    parts.append('<div class="facts">')
    if not item.ok:
        parts.append(f'<p class="bad">Failed, no copy made: {html.escape(item.error or "")}</p>')
    parts.append(_facts(item.manifest))
    parts.append("</div></div></div>")
    return "\n".join(parts)


def _figure(uri: str | None, caption: str) -> str:
    img = f'<img src="{uri}" alt="{html.escape(caption)}">' if uri else "<p>(no preview)</p>"
    return f"<figure>{img}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _facts(manifest: dict) -> str:
    if not manifest:
        return ""
    out = []
    faces = manifest.get("faces", [])
    redacted = manifest.get("faces_redacted", 0)
    out.append(f"<p><b>Faces:</b> {len(faces)} found, {redacted} redacted</p>")
    removed = manifest.get("metadata_removed", [])
    out.append("<p><b>Removed from the file:</b></p>")
    if removed:
        out.append("<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in removed) + "</ul>")
    else:
        out.append("<ul><li>no metadata was present</li></ul>")
    notes = manifest.get("decode_notes", [])
    if notes:
        out.append("<p><b>Pixels:</b> " + html.escape("; ".join(notes)) + "</p>")
    checks = manifest.get("checks", [])
    if checks:
        out.append("<p><b>Checks:</b></p><ul>")
        for check in checks:
            css = "ok" if check["passed"] else "bad"
            mark = "passed" if check["passed"] else "FAILED"
            detail = html.escape(f"{check['name']}: {check['detail']}")
            out.append(f'<li class="{css}">{mark}: {detail}</li>')
        out.append("</ul>")
    size_in, size_out = manifest.get("source_size"), manifest.get("output_size")
    if size_in and size_out:
        out.append(
            f"<p><b>Size:</b> {size_in[0]}x{size_in[1]} &rarr; {size_out[0]}x{size_out[1]}; "
            f"{manifest.get('timings_ms', {}).get('total', 0):.0f} ms</p>"
        )
    return "\n".join(out)
