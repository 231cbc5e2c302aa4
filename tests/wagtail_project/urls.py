"""URLs of the test site: the Wagtail admin, documents, images and page serving.

photoguard's admin overrides come before Wagtail's admin so its guarded preview
answers on Wagtail's own preview URL; ``wagtailimages_serve`` is enabled so the tests
can show that dynamic image URLs, too, only ever serve guarded renditions.
"""

from __future__ import annotations

from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.images import urls as wagtailimages_urls

from wagtail_photoguard import urls as photoguard_urls

urlpatterns = [
    path("admin/", include(photoguard_urls.admin_urlpatterns)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("photoguard/", include(photoguard_urls)),
    path("images/", include(wagtailimages_urls)),
    # Last: everything else is a Wagtail page.
    path("", include(wagtail_urls)),
]
