"""Wagtail hooks: the ``guard-<purpose>`` image operation and photoguard's log actions."""

from __future__ import annotations

from wagtail import hooks

from wagtail_photoguard.operations import GuardOperation


@hooks.register("register_image_operations")
def register_guard_operation():
    return [("guard", GuardOperation)]


#: Log actions shown in Wagtail's history views; the core's hash chain records the
#: same events tamper-evidently.
ORIGINAL_VIEW_ACTION = "photoguard.original_view"


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action(ORIGINAL_VIEW_ACTION, "View original", "Original viewed (photoguard)")
