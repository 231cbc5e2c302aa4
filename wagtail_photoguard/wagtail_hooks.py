"""Wagtail hooks: the ``guard-<purpose>`` image operation."""

from __future__ import annotations

from wagtail import hooks

from wagtail_photoguard.operations import GuardOperation


@hooks.register("register_image_operations")
def register_guard_operation():
    return [("guard", GuardOperation)]
