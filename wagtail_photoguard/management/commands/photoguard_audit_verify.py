"""``manage.py photoguard_audit_verify``: exit 1 when the audit log was altered."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from photoguard_core.audit_check import verify_audit
from wagtail_photoguard.site_context import core_context


class Command(BaseCommand):
    help = "Verify the photoguard audit chain and its sealed head."

    def handle(self, *args, **options) -> None:
        result = verify_audit(core_context(actor="photoguard_audit_verify"))
        state = "intact" if result.ok else "BROKEN"
        self.stdout.write(f"audit chain {state}: {result.checked} entries checked")
        for problem in result.problems:
            self.stdout.write(f"  {problem}")
        if not result.ok:
            raise SystemExit(1)
