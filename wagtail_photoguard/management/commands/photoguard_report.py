"""``manage.py photoguard_report --out DIR``: the safeguarding lead's HTML report."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from photoguard_core.report.catalogue_report import write_catalogue_report
from wagtail_photoguard.site_context import core_context


class Command(BaseCommand):
    help = "Write the report: images no longer covered, consent expiring, faces to review."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--expiring-days", type=int, default=30)

    def handle(self, *args, out: Path, expiring_days: int, **options) -> None:
        ctx = core_context(actor="photoguard_report")
        path = write_catalogue_report(ctx, out, expiring_days=expiring_days)
        self.stdout.write(f"report written: {path}")
