"""Keys and encryption at rest: a master key outside the catalogue, a data key per person.

Face embeddings (and optionally stored originals and backups) are encrypted with
AES-GCM from the ``cryptography`` package. Deleting a person's wrapped data key
crypto-shreds everything encrypted for them; see :mod:`photoguard_core.crypto.envelope`.

This package holds the logic only: which table or model stores a wrapped key is up to
the store (the SQLite catalogue, the Django adapter), which calls these functions.
"""

from photoguard_core.crypto.envelope import (
    DATA_KEY_BYTES,
    EMBEDDING_DIM,
    decrypt,
    decrypt_embedding,
    decrypt_file,
    decrypt_stream,
    encrypt,
    encrypt_embedding,
    encrypt_file,
    encrypt_stream,
    new_data_key,
    rewrap_key,
    unwrap_key,
    wrap_key,
    wrapped_key_id,
)
from photoguard_core.crypto.keys import (
    ENV_VAR,
    MASTER_KEY_BYTES,
    CryptoError,
    DecryptionError,
    MasterKey,
    MasterKeyError,
    resolve_master_key,
)

__all__ = [
    "DATA_KEY_BYTES",
    "EMBEDDING_DIM",
    "ENV_VAR",
    "MASTER_KEY_BYTES",
    "CryptoError",
    "DecryptionError",
    "MasterKey",
    "MasterKeyError",
    "decrypt",
    "decrypt_embedding",
    "decrypt_file",
    "decrypt_stream",
    "encrypt",
    "encrypt_embedding",
    "encrypt_file",
    "encrypt_stream",
    "new_data_key",
    "resolve_master_key",
    "rewrap_key",
    "unwrap_key",
    "wrap_key",
    "wrapped_key_id",
]
