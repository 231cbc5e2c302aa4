"""Envelope encryption: a data key per person, wrapped by the master key; AES-GCM throughout.

Why a key per person rather than one key for everything: erasure. A person's face
templates and face embeddings are encrypted under *their* data key, and the catalogue
keeps only the wrapped form of that key. Deleting that one wrapped-key row
**crypto-shreds** the person: every ciphertext of theirs, in the live catalogue *and in
every backup ever taken*, becomes unreadable noise, without hunting down each copy.

Crypto-shredding a person (what the catalogue or any other store does):

1. in one transaction, delete the person's wrapped data key row and their templates,
   and set their faces to "unknown" (so every decision redacts them);
2. append a ``shred`` audit entry naming the person (never the key);
3. from then on :func:`unwrap_key` has nothing to unwrap, and :func:`decrypt` /
   :func:`decrypt_embedding` on any surviving ciphertext fail with
   :class:`~photoguard_core.crypto.keys.DecryptionError`, so faces stay unknown.

Backups made *before* the shred still hold the wrapped key; restoring one brings the
person back. Re-apply shreds after a restore (the audit log lists them).

Formats (all authenticated; the version byte is part of the associated data):

* wrapped data key: ``version(1) | master key id(8) | nonce(12) | AES-GCM(data key)(48)``,
  with the person id as associated data, so a wrapped key copied to another person's
  row fails to unwrap;
* :func:`encrypt`: ``version(1) | nonce(12) | ciphertext+tag``, caller's ``aad`` bound in;
* streams/files (:func:`encrypt_stream`, :func:`encrypt_file`): a header
  ``magic | version | key kind | key id | salt(16) | chunk size`` then frames
  ``final flag(1) | length(4) | nonce(12) | ciphertext+tag``; every frame's associated
  data holds the header, the frame index and the final flag, so reordered, dropped,
  duplicated or truncated frames are all detected, and a per-file key is derived from
  the salt so files never share a key.

Nonces are 96 random bits. A data key encrypts at most a few thousand embeddings, far
below the 2**32 messages per key at which random GCM nonces become a concern.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from photoguard_core.crypto.keys import (
    CryptoError,
    DecryptionError,
    MasterKey,
    fsync_directory,
    hkdf_sha256,
)

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 32
EMBEDDING_DIM = 128

_WRAP_PURPOSE = "photoguard/wrap-data-key/v1"
_FILE_PURPOSE = "photoguard/file/v1"
_WRAP_AAD_PREFIX = b"photoguard/wrapped-data-key/v1\x00"
_EMBEDDING_AAD_PREFIX = b"photoguard/embedding/v1\x00"
_KEY_ID_BYTES = 8
WRAPPED_KEY_BYTES = 1 + _KEY_ID_BYTES + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES

STREAM_MAGIC = b"PGCRYPT\x00"
_KIND_MASTER = 1
_KIND_DATA = 2
_STREAM_HEADER = struct.Struct(">8sBB8s16sI")  # magic, version, kind, key id, salt, chunk size
_FRAME_HEADER = struct.Struct(">BI12s")  # final flag, ciphertext length, nonce
_FRAME_AAD = struct.Struct(">QB")  # frame index, final flag
DEFAULT_CHUNK_BYTES = 1 << 20
_MAX_CHUNK_BYTES = 64 << 20


# --- data keys ---------------------------------------------------------------------------


def new_data_key() -> bytes:
    """A fresh random 256-bit data key for one person."""
    return AESGCM.generate_key(bit_length=256)


def wrap_key(master: MasterKey, data_key: bytes, *, person_id: str | int) -> bytes:
    """Encrypt ``data_key`` under the master key, bound to ``person_id``.

    The catalogue stores the result (and :attr:`MasterKey.key_id`) in the person's key
    row. Binding the person id means a row edited to point at someone else's wrapped
    key does not silently decrypt that person's faces as this one's.
    """
    _check_data_key(data_key)
    header = bytes([FORMAT_VERSION]) + bytes.fromhex(master.key_id)
    nonce = os.urandom(NONCE_BYTES)
    aead = AESGCM(master.derive_key(_WRAP_PURPOSE))
    return header + nonce + aead.encrypt(nonce, data_key, header + _person_aad(person_id))


def unwrap_key(master: MasterKey, wrapped: bytes, *, person_id: str | int) -> bytes:
    """Recover a person's data key; :class:`DecryptionError` says why it cannot be."""
    if not isinstance(wrapped, bytes | bytearray | memoryview):
        raise TypeError("a wrapped key is bytes")
    wrapped = bytes(wrapped)
    if len(wrapped) != WRAPPED_KEY_BYTES:
        raise DecryptionError(
            f"a wrapped data key is {WRAPPED_KEY_BYTES} bytes, got {len(wrapped)}: "
            "not a photoguard wrapped key, or damaged"
        )
    if wrapped[0] != FORMAT_VERSION:
        raise DecryptionError(f"unknown wrapped-key format version {wrapped[0]}")
    stored_id = wrapped[1 : 1 + _KEY_ID_BYTES].hex()
    if stored_id != master.key_id:
        raise DecryptionError(
            f"this data key was wrapped by master key {stored_id}, "
            f"but the loaded master key is {master.key_id}"
        )
    header = wrapped[: 1 + _KEY_ID_BYTES]
    nonce = wrapped[len(header) : len(header) + NONCE_BYTES]
    aead = AESGCM(master.derive_key(_WRAP_PURPOSE))
    try:
        return aead.decrypt(
            nonce, wrapped[len(header) + NONCE_BYTES :], header + _person_aad(person_id)
        )
    except InvalidTag:
        raise DecryptionError(
            f"cannot unwrap the data key for person {str(person_id)!r}: it was wrapped for "
            "another person, or the stored value was altered"
        ) from None


def wrapped_key_id(wrapped: bytes) -> str:
    """Which master key wrapped this data key (for rotation and diagnostics)."""
    if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[0] != FORMAT_VERSION:
        raise DecryptionError("not a photoguard wrapped data key")
    return bytes(wrapped[1 : 1 + _KEY_ID_BYTES]).hex()


def rewrap_key(old: MasterKey, new: MasterKey, wrapped: bytes, *, person_id: str | int) -> bytes:
    """Re-wrap a data key under a new master key (key rotation).

    Only the small wrapped keys change; no embedding has to be re-encrypted.
    """
    return wrap_key(new, unwrap_key(old, wrapped, person_id=person_id), person_id=person_id)


# --- records -----------------------------------------------------------------------------


def encrypt(data_key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """AES-GCM encrypt one record. ``aad`` should name the record (table, row id,
    person id) so a ciphertext copied into another row fails to decrypt."""
    _check_data_key(data_key)
    _check_bytes(aad, "aad")
    header = bytes([FORMAT_VERSION])
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(data_key).encrypt(nonce, bytes(plaintext), header + aad)


def decrypt(data_key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Reverse :func:`encrypt`; :class:`DecryptionError` on any mismatch or alteration."""
    _check_data_key(data_key)
    _check_bytes(aad, "aad")
    blob = bytes(blob)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is too short to be a photoguard record")
    if blob[0] != FORMAT_VERSION:
        raise DecryptionError(f"unknown ciphertext format version {blob[0]}")
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(data_key).decrypt(nonce, blob[1 + NONCE_BYTES :], blob[:1] + aad)
    except InvalidTag:
        raise DecryptionError(
            "ciphertext could not be authenticated: wrong data key, wrong associated "
            "data (record moved), or the stored value was altered"
        ) from None


def encrypt_embedding(data_key: bytes, vector: np.ndarray, *, aad: bytes) -> bytes:
    """Encrypt a 128-d face embedding (stored as little-endian float64).

    Refuses NaN/inf and other shapes: a malformed template must fail loudly at write
    time, not match nothing (or everything) at read time.
    """
    arr = np.asarray(vector, dtype=np.float64)
    if arr.shape != (EMBEDDING_DIM,):
        raise ValueError(f"an embedding has shape ({EMBEDDING_DIM},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("an embedding must not contain NaN or infinity")
    _check_bytes(aad, "aad")
    return encrypt(data_key, arr.astype("<f8").tobytes(), aad=_EMBEDDING_AAD_PREFIX + aad)


def decrypt_embedding(data_key: bytes, blob: bytes, *, aad: bytes) -> np.ndarray:
    """Reverse :func:`encrypt_embedding`: a fresh, writable float64 array of shape (128,)."""
    _check_bytes(aad, "aad")
    plain = decrypt(data_key, blob, aad=_EMBEDDING_AAD_PREFIX + aad)
    if len(plain) != EMBEDDING_DIM * 8:
        raise DecryptionError("decrypted value is not a 128-d float64 embedding")
    return np.frombuffer(plain, dtype="<f8").astype(np.float64)


# --- streams and files -------------------------------------------------------------------


def encrypt_stream(
    key: MasterKey | bytes,
    src: BinaryIO,
    dst: BinaryIO,
    *,
    aad: bytes = b"",
    chunk_size: int = DEFAULT_CHUNK_BYTES,
) -> int:
    """Encrypt ``src`` into ``dst`` in authenticated frames; returns plaintext bytes read.

    Streaming keeps memory flat for multi-gigabyte originals and backups. ``key`` is
    the master key (backups) or a person's data key (their stored originals).
    """
    _check_bytes(aad, "aad")
    if not 0 < chunk_size <= _MAX_CHUNK_BYTES:
        raise ValueError(f"chunk_size must be between 1 and {_MAX_CHUNK_BYTES}")
    kind, key_id, ikm = _stream_key_material(key)
    salt = os.urandom(16)
    header = _STREAM_HEADER.pack(STREAM_MAGIC, FORMAT_VERSION, kind, key_id, salt, chunk_size)
    aead = AESGCM(_frame_key(ikm, salt))
    dst.write(header)
    total = 0
    index = 0
    chunk = _read_exact(src, chunk_size)
    while True:
        # Look one chunk ahead: the last frame must carry the final flag, and a file
        # whose size is a multiple of chunk_size must not end with an unflagged frame.
        following = _read_exact(src, chunk_size) if len(chunk) == chunk_size else b""
        final = not following
        nonce = os.urandom(NONCE_BYTES)
        sealed = aead.encrypt(nonce, chunk, header + _FRAME_AAD.pack(index, final) + aad)
        dst.write(_FRAME_HEADER.pack(int(final), len(sealed), nonce))
        dst.write(sealed)
        total += len(chunk)
        if final:
            return total
        chunk = following
        index += 1


def decrypt_stream(
    key: MasterKey | bytes, src: BinaryIO, dst: BinaryIO, *, aad: bytes = b""
) -> int:
    """Decrypt a stream written by :func:`encrypt_stream`; returns plaintext bytes written.

    Plaintext is written frame by frame as each frame authenticates, so a failure can
    leave a partial ``dst``: callers that need all-or-nothing use :func:`decrypt_file`
    (temporary file, renamed only after the final frame verified).
    """
    _check_bytes(aad, "aad")
    raw = _read_exact(src, _STREAM_HEADER.size)
    if len(raw) < _STREAM_HEADER.size:
        raise DecryptionError("not a photoguard encrypted stream: too short for a header")
    magic, version, kind, stored_id, salt, chunk_size = _STREAM_HEADER.unpack(raw)
    if magic != STREAM_MAGIC:
        raise DecryptionError("not a photoguard encrypted stream: bad magic")
    if version != FORMAT_VERSION:
        raise DecryptionError(f"unknown encrypted stream version {version}")
    if not 0 < chunk_size <= _MAX_CHUNK_BYTES:
        raise DecryptionError("encrypted stream header is corrupt (chunk size)")
    given_kind, given_id, ikm = _stream_key_material(key)
    if kind != given_kind:
        raise DecryptionError(
            "this stream was encrypted with "
            + ("the master key" if kind == _KIND_MASTER else "a data key")
            + ", but "
            + ("the master key" if given_kind == _KIND_MASTER else "a data key")
            + " was given"
        )
    if stored_id != given_id:
        raise DecryptionError(
            f"this stream was encrypted with key {stored_id.hex()}, "
            f"but the given key is {given_id.hex()}"
        )
    aead = AESGCM(_frame_key(ikm, salt))
    total = 0
    index = 0
    while True:
        head = _read_exact(src, _FRAME_HEADER.size)
        if not head:
            raise DecryptionError(
                f"truncated: the stream ends after {index} frame(s) without its final frame"
            )
        if len(head) < _FRAME_HEADER.size:
            raise DecryptionError(f"truncated inside the header of frame {index}")
        final, length, nonce = _FRAME_HEADER.unpack(head)
        if final not in (0, 1) or not TAG_BYTES <= length <= chunk_size + TAG_BYTES:
            raise DecryptionError(f"frame {index} is corrupt (bad flag or length)")
        if not final and length != chunk_size + TAG_BYTES:
            raise DecryptionError(f"frame {index} is corrupt (short frame before the end)")
        sealed = _read_exact(src, length)
        if len(sealed) < length:
            raise DecryptionError(f"truncated inside frame {index}")
        try:
            plain = aead.decrypt(nonce, sealed, raw + _FRAME_AAD.pack(index, final) + aad)
        except InvalidTag:
            raise DecryptionError(
                f"frame {index} failed authentication: the data was altered, reordered "
                "or truncated, or the key or associated data is wrong"
            ) from None
        dst.write(plain)
        total += len(plain)
        if final:
            if src.read(1):
                raise DecryptionError("unexpected data after the final frame")
            return total
        index += 1


def encrypt_file(
    key: MasterKey | bytes,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    aad: bytes = b"",
    chunk_size: int = DEFAULT_CHUNK_BYTES,
) -> int:
    """Encrypt file ``src`` to ``dst`` (atomic, mode 0600); returns plaintext size."""
    with open(src, "rb") as reader, atomic_output(Path(dst)) as writer:
        return encrypt_stream(key, reader, writer, aad=aad, chunk_size=chunk_size)


def decrypt_file(
    key: MasterKey | bytes,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    aad: bytes = b"",
) -> int:
    """Decrypt file ``src`` to ``dst`` all-or-nothing: on any failure ``dst`` is untouched."""
    with open(src, "rb") as reader, atomic_output(Path(dst)) as writer:
        return decrypt_stream(key, reader, writer, aad=aad)


@contextlib.contextmanager
def atomic_output(path: Path, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Write ``path`` via a temporary file in the same directory, fsync, then rename.

    Readers see the old file or the complete new one, never a partial write; if the
    body raises, the temporary file is removed and ``path`` is untouched. Also used
    by :mod:`photoguard_core.backup`.
    """
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_directory(directory)


# --- helpers -----------------------------------------------------------------------------


def _check_data_key(data_key: bytes) -> None:
    if not isinstance(data_key, bytes | bytearray) or len(data_key) != DATA_KEY_BYTES:
        raise CryptoError(f"a data key is exactly {DATA_KEY_BYTES} bytes")


def _check_bytes(value: object, name: str) -> None:
    if not isinstance(value, bytes | bytearray):
        raise TypeError(f"{name} must be bytes")


def _person_aad(person_id: str | int) -> bytes:
    text = str(person_id)
    if not text:
        raise ValueError("person_id must not be empty")
    return _WRAP_AAD_PREFIX + text.encode("utf-8")


def _stream_key_material(key: MasterKey | bytes) -> tuple[int, bytes, bytes]:
    """(kind, 8-byte key id, input keying material) for a stream key."""
    if isinstance(key, MasterKey):
        return _KIND_MASTER, bytes.fromhex(key.key_id), key.derive_key(_FILE_PURPOSE)
    _check_data_key(key)
    ikm = hkdf_sha256(bytes(key), info=_FILE_PURPOSE.encode())
    key_id = hashlib.sha256(hkdf_sha256(bytes(key), info=b"photoguard/data-key-id/v1")).digest()
    return _KIND_DATA, key_id[:_KEY_ID_BYTES], ikm


def _frame_key(ikm: bytes, salt: bytes) -> bytes:
    return hkdf_sha256(ikm, info=b"photoguard/stream-frames/v1", salt=salt)


def _read_exact(src: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes unless EOF comes first (raw streams may return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = src.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
