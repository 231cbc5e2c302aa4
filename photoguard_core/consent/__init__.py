"""Consent policy: purposes, the consent ledger, safeguarding flags, biometric consent,
per-photo decisions and SIS CSV import/export.

Everything here is a pure function over frozen dataclasses: no database, no files.
The SQLite catalogue and the Django adapter gather the facts and store the results;
the rules live here once, so both platforms decide the same way.
"""

from photoguard_core.consent.biometric import (
    BiometricDecision,
    BiometricResponse,
    biometric_allowed,
)
from photoguard_core.consent.decisions import (
    FaceDecision,
    FaceFacts,
    PersonFacts,
    PhotoDecision,
    decide,
)
from photoguard_core.consent.flags import (
    WITHHOLDING_FLAGS,
    Vulnerability,
    parse_vulnerability,
    withholds_photo,
)
from photoguard_core.consent.ledger import (
    ConsentEntry,
    ConsentState,
    ConsentStatus,
    consent_as_of,
    expiring,
    history,
    human_date,
)
from photoguard_core.consent.purposes import DEFAULT_PURPOSES, Purpose, load_purposes
from photoguard_core.consent.sis_csv import (
    ConsentRow,
    PeopleImport,
    PersonRow,
    RowError,
    parse_people_csv,
    write_people_csv,
)

__all__ = [
    "DEFAULT_PURPOSES",
    "WITHHOLDING_FLAGS",
    "BiometricDecision",
    "BiometricResponse",
    "ConsentEntry",
    "ConsentRow",
    "ConsentState",
    "ConsentStatus",
    "FaceDecision",
    "FaceFacts",
    "PeopleImport",
    "PersonFacts",
    "PersonRow",
    "PhotoDecision",
    "Purpose",
    "RowError",
    "Vulnerability",
    "biometric_allowed",
    "consent_as_of",
    "decide",
    "expiring",
    "history",
    "human_date",
    "load_purposes",
    "parse_people_csv",
    "parse_vulnerability",
    "withholds_photo",
    "write_people_csv",
]
