"""The master key: 32 random bytes that live *outside* the catalogue.

Why outside: the catalogue (an SQLite file, a Django database, their backups) is what
gets copied, synced and stolen. Everything sensitive in it (face embeddings, optionally
originals, backups) is encrypted under per-person data keys that are themselves wrapped
by this master key, so a copy of the catalogue alone reveals no face template.

The key comes from an environment variable (containers, secret managers) or a file
that only its owner may read. It is never printed: ``repr`` shows only :attr:`key_id`,
error messages name *where* a key was looked for, never what was found, and the object
refuses to be pickled so it cannot leak through a cache or a worker queue.

Every use of the master key goes through :meth:`MasterKey.derive_key` with a purpose
label (HKDF-SHA256), so wrapping data keys, sealing the audit head and encrypting
backups use independent keys and one can never be replayed as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_BYTES = 32
ENV_VAR = "PHOTOGUARD_MASTER_KEY"

# HKDF salt: fixed and public; it only separates photoguard's derivations from any other
# use of the same 32 bytes. Purposes below are the HKDF "info" labels.
_HKDF_SALT = b"photoguard master key v1"
KEY_ID_PURPOSE = "photoguard/key-id/v1"

# A key file is a few dozen bytes; anything much larger is not a key file.
_MAX_KEY_FILE_BYTES = 4096


class CryptoError(Exception):
    """Base class for every key and encryption failure in photoguard.

    Messages never contain key material or plaintext, so they are safe to log.
    """


class MasterKeyError(CryptoError):
    """No usable master key: missing, unsafe permissions, malformed, or refused to overwrite."""


class DecryptionError(CryptoError):
    """Ciphertext could not be authenticated.

    With AES-GCM a wrong key, wrong associated data, an altered byte and a truncated
    stream are indistinguishable by design; where a key id is recorded the message
    says so explicitly, because "wrong key" is the failure operators hit most.
    """


def hkdf_sha256(ikm: bytes, *, info: bytes, salt: bytes | None = None, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869); the one derivation function used throughout photoguard."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decode_key_text(text: str) -> bytes | None:
    """Decode base64 (standard or URL-safe alphabet, padding optional); ``None`` if invalid.

    Both alphabets are accepted because operators paste keys from ``openssl rand -base64``
    (standard) as well as from ``photoguard init`` (URL-safe).
    """
    compact = "".join(text.split())
    if not compact:
        return None
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact.encode("ascii"), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


class MasterKey:
    """A 32-byte master key. Construct it with :meth:`generate`, :meth:`load`,
    :meth:`from_env` or :func:`resolve_master_key`, never from a literal in code."""

    __slots__ = ("_key", "_key_id")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != MASTER_KEY_BYTES:
            # Deliberately no length in the message: it would hint at what was passed.
            raise MasterKeyError(f"a master key is exactly {MASTER_KEY_BYTES} bytes")
        self._key = bytes(key)
        self._key_id = hashlib.sha256(self.derive_key(KEY_ID_PURPOSE)).hexdigest()[:16]

    # --- construction ----------------------------------------------------------------

    @classmethod
    def generate(cls) -> MasterKey:
        """A fresh key from the operating system's CSPRNG (``photoguard init``)."""
        return cls(secrets.token_bytes(MASTER_KEY_BYTES))

    @classmethod
    def from_base64(cls, text: str, *, source: str = "the given text") -> MasterKey:
        """Parse base64 of exactly 32 bytes; ``source`` names where it came from in errors."""
        raw = decode_key_text(text)
        if raw is None or len(raw) != MASTER_KEY_BYTES:
            raise MasterKeyError(
                f"{source} does not hold base64 of a {MASTER_KEY_BYTES}-byte key "
                "(create one with `photoguard init` or `openssl rand -base64 32`)"
            )
        return cls(raw)

    @classmethod
    def from_env(cls, var: str = ENV_VAR, *, environ: Mapping[str, str] | None = None) -> MasterKey:
        """Read the key from an environment variable holding base64 (either alphabet)."""
        env = os.environ if environ is None else environ
        value = env.get(var, "")
        if not value.strip():
            raise MasterKeyError(f"environment variable {var} is not set")
        return cls.from_base64(value, source=f"environment variable {var}")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MasterKey:
        """Read a key file, refusing one that group or others can read or write.

        Like ssh with private keys: a key file others can read is already compromised
        (or about to be), and one others can write could be swapped for a key they
        know. The mode is checked on the opened descriptor, so the file checked is the
        file read. The file holds base64 text (what :meth:`save` writes) or 32 raw bytes.
        """
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise MasterKeyError(f"master key file {path} does not exist") from None
        except OSError as exc:
            raise MasterKeyError(f"cannot open master key file {path}: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise MasterKeyError(f"master key file {path} is not a regular file")
            if os.name == "posix" and info.st_mode & 0o077:
                raise MasterKeyError(
                    f"master key file {path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to use it. "
                    f"Restrict it with: chmod 600 {path}"
                )
            data = _read_fd(fd, _MAX_KEY_FILE_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) == MASTER_KEY_BYTES:
            return cls(data)
        raw = None
        if len(data) <= _MAX_KEY_FILE_BYTES:
            try:
                raw = decode_key_text(data.decode("ascii"))
            except UnicodeDecodeError:
                raw = None
        if raw is None or len(raw) != MASTER_KEY_BYTES:
            raise MasterKeyError(
                f"master key file {path} does not hold a {MASTER_KEY_BYTES}-byte key "
                "(expected base64 text or raw bytes)"
            )
        return cls(raw)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the key as base64 text to a new file with mode 0600, atomically.

        The file is written under a temporary name and then linked into place, so no
        reader ever sees a half-written key, and an existing key file is never replaced
        unless ``overwrite=True``: losing the old key makes every embedding and backup
        it protects unreadable, which is exactly what overwriting by accident would do.
        """
        path = Path(path)
        if not overwrite and os.path.lexists(path):
            raise MasterKeyError(
                f"refusing to overwrite existing master key file {path}: every embedding "
                "and backup encrypted under it would become unreadable"
            )
        directory = path.parent
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise MasterKeyError(
                f"cannot create master key file in {directory}: {exc.strerror}"
            ) from None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(self.export_base64().encode("ascii") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                _link_no_clobber(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_directory(directory)
        return path

    # --- use -------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """16 hex digits identifying this key, safe to store and print.

        It is a hash of a *derived* value, not of the key, so publishing it says nothing
        about the key; records store it to say which key wrapped them (key rotation,
        and a clear "wrong key" error instead of a bare authentication failure).
        """
        return self._key_id

    def derive_key(self, purpose: str, *, length: int = 32) -> bytes:
        """An independent subkey for one ``purpose`` (HKDF-SHA256, purpose as info)."""
        if not purpose:
            raise ValueError("a derivation purpose is required")
        return hkdf_sha256(self._key, info=purpose.encode("utf-8"), salt=_HKDF_SALT, length=length)

    def export_base64(self) -> str:
        """The key as URL-safe base64: the format of key files and of ``PHOTOGUARD_MASTER_KEY``.

        This is key material: show it once to an operator who asked for it, never log it.
        """
        return base64.urlsafe_b64encode(self._key).decode("ascii")

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self._key_id!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __copy__(self) -> MasterKey:
        return self  # immutable: copies would only be more key material in memory

    def __deepcopy__(self, memo: dict[int, object]) -> MasterKey:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(
            "MasterKey cannot be pickled: pass the key file path or environment variable instead"
        )


def resolve_master_key(
    key_file: Path | None,
    *,
    env_var: str = ENV_VAR,
    environ: Mapping[str, str] | None = None,
) -> MasterKey:
    """Find the master key: the environment variable first, then ``key_file``.

    The variable wins because that is how containers and secret managers inject keys,
    and an operator who set it means it. A variable that is set but malformed is an
    error rather than a silent fall-back to the file, so a typo never ends up using a
    different key than intended.
    """
    env = os.environ if environ is None else environ
    if env.get(env_var, "").strip():
        return MasterKey.from_env(env_var, environ=env)
    if key_file is None:
        raise MasterKeyError(
            f"no master key: environment variable {env_var} is not set and no key file was given"
        )
    key_file = Path(key_file)
    if not os.path.lexists(key_file):
        raise MasterKeyError(
            f"no master key: environment variable {env_var} is not set "
            f"and key file {key_file} does not exist"
        )
    return MasterKey.load(key_file)


def _read_fd(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = os.read(fd, limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _link_no_clobber(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` only if ``dst`` does not exist, atomically.

    ``os.link`` fails if the target exists (no race between check and create). On file
    systems without hard links, fall back to an exclusive create of the target.
    """
    try:
        os.link(src, dst)
        return
    except FileExistsError:
        raise MasterKeyError(
            f"refusing to overwrite existing master key file {dst}: every embedding "
            "and backup encrypted under it would become unreadable"
        ) from None
    except OSError:
        pass
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MasterKeyError(f"refusing to overwrite existing master key file {dst}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(src.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def fsync_directory(directory: Path) -> None:
    """Make a rename durable: without this a crash can forget the new directory entry."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
