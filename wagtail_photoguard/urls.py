"""photoguard's URLs; include them under any prefix::

    path("photoguard/", include("wagtail_photoguard.urls")),

Without them originals have no URL at all (``image.file.url`` raises), which is safe but
leaves the safeguarding lead no way to see one.
"""

from __future__ import annotations

from django.urls import path

from wagtail_photoguard.views.originals import guarded_preview, original

app_name = "wagtail_photoguard"

urlpatterns = [
    path("originals/<int:image_id>/", original, name="original"),
]

#: Put these before Wagtail's admin URLs, under the same prefix, so they replace
#: Wagtail's views that would read the original unguarded::
#:
#:     path("admin/", include(wagtail_photoguard.urls.admin_urlpatterns)),
#:     path("admin/", include(wagtailadmin_urls)),
admin_urlpatterns = [
    path(
        "images/<int:image_id>/preview/<str:filter_spec>/",
        guarded_preview,
        name="wagtailimages_guarded_preview",
    ),
]
