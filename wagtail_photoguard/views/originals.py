"""Originals for permitted staff only, each view written to the audit hash chain.

An original carries every face unredacted and the camera's GPS position, so it is the
one file in the site that must never reach a visitor. This view is the only way out of
:class:`~wagtail_photoguard.storage.PrivateOriginalsStorage` over HTTP: it asks for a
signed-in Wagtail user holding ``wagtail_photoguard.view_originals`` (the safeguarding
lead), records who saw which photo before sending a byte, and forbids every cache on
the way from keeping a copy.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe
from wagtail.images import get_image_model
from wagtail.log_actions import log

from photoguard_core.audit import ORIGINAL_VIEW
from wagtail_photoguard.models.permissions import VIEW_ORIGINALS
from wagtail_photoguard.site_context import core_context
from wagtail_photoguard.tasks import image_location
from wagtail_photoguard.wagtail_hooks import ORIGINAL_VIEW_ACTION

#: Wagtail's own "may use the admin" permission: originals are for staff, not for any
#: account that happens to hold the photoguard permission.
ACCESS_ADMIN = "wagtailadmin.access_admin"

PRIVATE = "private, no-store, max-age=0"


def may_view_originals(user) -> bool:
    """Signed-in, active staff with the photoguard permission (superusers have it)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.has_perm(ACCESS_ADMIN)
        and user.has_perm(VIEW_ORIGINALS)
    )


@require_safe
def original(request: HttpRequest, image_id: int) -> HttpResponse:
    """The original file of one image, audited; 302 to sign in, 403 without the right.

    The image is looked up only after the permission check, so a refused caller cannot
    tell which image ids exist.
    """
    user = request.user
    if not user.is_authenticated:
        try:
            login = reverse("wagtailadmin_login")
        except NoReverseMatch:  # a site without the Wagtail admin: nowhere to sign in
            raise PermissionDenied from None
        return _private(redirect_to_login(request.get_full_path(), login_url=login))
    if not may_view_originals(user):
        raise PermissionDenied
    image = get_object_or_404(get_image_model(), pk=image_id)
    try:
        with image.open_file() as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as err:
        raise Http404("the original file is missing") from err

    # Written (and committed) before the response exists: a view that cannot be
    # recorded is not served.
    actor = user.get_username()
    store = core_context(actor=actor).store
    photo = store.photo_by_sha(hashlib.sha256(data).hexdigest())
    object_type, object_id = ("photo", str(photo.id)) if photo else ("image", str(image.pk))
    store.audit(
        actor,
        ORIGINAL_VIEW,
        object_type,
        object_id,
        {"location": image_location(image), "bytes": len(data)},
    )
    log(instance=image, action=ORIGINAL_VIEW_ACTION, user=user)  # shown in Wagtail's history

    content_type = mimetypes.guess_type(image.file.name)[0] or "application/octet-stream"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="original-{image.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)


@require_safe
def guarded_preview(request: HttpRequest, image_id: int, filter_spec: str) -> HttpResponse:
    """Wagtail's admin URL-generator preview, made from a guarded rendition.

    Wagtail's own preview runs the filter straight on the original, so an editor (who
    may change the image but not see originals) would get unredacted faces and GPS.
    Mounted over Wagtail's URL (``wagtailimages:preview``) by the site's URLconf, this
    keeps Wagtail's permission check and answers with the same guarded bytes a visitor
    would get; nothing is stored.
    """
    from wagtail.images.exceptions import InvalidFilterSpecError
    from wagtail.images.forms import URLGeneratorForm
    from wagtail.images.models import Filter
    from wagtail.permissions import policy_registry

    model = get_image_model()
    image = get_object_or_404(model, pk=image_id)
    policy = policy_registry.get_by_type(model)
    if not policy.user_has_permission_for_instance(request.user, "change", image):
        raise PermissionDenied
    try:
        image_filter = Filter(spec=filter_spec)
        allowed = URLGeneratorForm.FilterChoices.values
        if any(op.method not in allowed for op in image_filter.operations):
            raise InvalidFilterSpecError(filter_spec)
    except InvalidFilterSpecError:
        return HttpResponseBadRequest("Invalid filter spec", content_type="text/plain")
    rendition = image.generate_rendition_file(image_filter)
    content_type = mimetypes.guess_type(rendition.name)[0] or "application/octet-stream"
    return _private(HttpResponse(rendition.read(), content_type=content_type))


def _private(response: HttpResponse) -> HttpResponse:
    """No shared or browser cache may keep an original (or a redirect that varies by user)."""
    response["Cache-Control"] = PRIVATE
    response["Pragma"] = "no-cache"
    return response


__all__ = ["PRIVATE", "guarded_preview", "may_view_originals", "original"]
