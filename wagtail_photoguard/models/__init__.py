"""photoguard's catalogue as Django models, one module per area.

Every record of the core's catalogue schema (:mod:`photoguard_core.catalogue.schema`)
has a model here, in tables prefixed ``photoguard_``; :mod:`wagtail_photoguard.store`
translates between these rows and the core's records. Later areas (the guarded image
model, its renditions) add their own modules and are re-exported here.
"""

from wagtail_photoguard.models.append_only import (
    AppendOnlyError,
    AppendOnlyManager,
    AppendOnlyModel,
    AppendOnlyQuerySet,
)
from wagtail_photoguard.models.consent import (
    BiometricResponseEntry,
    ConsentLedgerEntry,
    Purpose,
)
from wagtail_photoguard.models.people import (
    DataKey,
    FaceTemplate,
    Membership,
    Person,
    PersonFlag,
    PersonGroup,
)
from wagtail_photoguard.models.permissions import PhotoguardPermission
from wagtail_photoguard.models.photos import (
    Event,
    Face,
    FaceRejection,
    Photo,
    PhotoRendition,
    PhotoTag,
    PhotoUsage,
    Tag,
)
from wagtail_photoguard.models.system import (
    AuditLock,
    AuditLogEntry,
    CatalogueSetting,
    Notification,
)

__all__ = [
    "AppendOnlyError",
    "AppendOnlyManager",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "AuditLock",
    "AuditLogEntry",
    "BiometricResponseEntry",
    "CatalogueSetting",
    "ConsentLedgerEntry",
    "DataKey",
    "Event",
    "Face",
    "FaceRejection",
    "FaceTemplate",
    "Membership",
    "Notification",
    "Person",
    "PersonFlag",
    "PersonGroup",
    "Photo",
    "PhotoRendition",
    "PhotoTag",
    "PhotoUsage",
    "PhotoguardPermission",
    "Purpose",
    "Tag",
]
