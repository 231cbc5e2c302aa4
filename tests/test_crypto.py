"""Keys and envelope encryption: what a stolen catalogue, a moved row, a tampered byte or
a deleted person key must and must not allow."""

from __future__ import annotations

import base64
import copy
import os
import pickle
import stat

import numpy as np
import pytest

from photoguard_core.crypto import (
    CryptoError,
    DecryptionError,
    MasterKey,
    MasterKeyError,
    decrypt,
    decrypt_embedding,
    decrypt_file,
    encrypt,
    encrypt_embedding,
    encrypt_file,
    new_data_key,
    resolve_master_key,
    rewrap_key,
    unwrap_key,
    wrap_key,
    wrapped_key_id,
)
from photoguard_core.crypto.envelope import _FRAME_HEADER, _STREAM_HEADER


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


# --- master key ----------------------------------------------------------------------------


def test_save_creates_0600_and_load_round_trips(tmp_path, master):
    path = master.save(tmp_path / "master.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.load(path) == master
    assert MasterKey.load(path).key_id == master.key_id
    assert not [p for p in tmp_path.iterdir() if p.name != "master.key"], "temp file left"


def test_save_never_overwrites_unless_asked(tmp_path, master):
    path = master.save(tmp_path / "master.key")
    other = MasterKey.generate()
    with pytest.raises(MasterKeyError, match="refusing to overwrite"):
        other.save(path)
    assert MasterKey.load(path) == master
    other.save(path, overwrite=True)
    assert MasterKey.load(path) == other
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_load_refuses_key_file_open_to_group_or_others(tmp_path, master, mode):
    path = master.save(tmp_path / "master.key")
    os.chmod(path, mode)
    with pytest.raises(MasterKeyError, match="chmod 600") as err:
        MasterKey.load(path)
    assert f"{mode:04o}" in str(err.value)
    assert master.export_base64() not in str(err.value)


def test_load_refuses_wrong_length_and_missing(tmp_path):
    short = tmp_path / "short.key"
    short.write_text(base64.b64encode(os.urandom(16)).decode())
    os.chmod(short, 0o600)
    with pytest.raises(MasterKeyError, match="32-byte key"):
        MasterKey.load(short)
    with pytest.raises(MasterKeyError, match="does not exist"):
        MasterKey.load(tmp_path / "absent.key")


def test_load_accepts_raw_32_bytes(tmp_path):
    raw = os.urandom(32)
    path = tmp_path / "raw.key"
    path.write_bytes(raw)
    os.chmod(path, 0o600)
    assert MasterKey.load(path) == MasterKey(raw)


def test_env_var_standard_and_urlsafe_base64(master):
    raw = base64.urlsafe_b64decode(master.export_base64())
    standard = base64.b64encode(raw).decode()
    urlsafe_unpadded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for value in (standard, urlsafe_unpadded, f"  {standard}\n"):
        assert MasterKey.from_env(environ={"PHOTOGUARD_MASTER_KEY": value}) == master


def test_env_var_errors_name_the_variable_not_the_value():
    with pytest.raises(MasterKeyError, match="PHOTOGUARD_MASTER_KEY is not set"):
        MasterKey.from_env(environ={})
    bad = base64.b64encode(b"x" * 31).decode()
    with pytest.raises(MasterKeyError, match="PHOTOGUARD_MASTER_KEY") as err:
        MasterKey.from_env(environ={"PHOTOGUARD_MASTER_KEY": bad})
    assert bad not in str(err.value)


def test_resolve_prefers_env_then_file(tmp_path, master):
    key_file = master.save(tmp_path / "master.key")
    env_key = MasterKey.generate()
    env = {"PHOTOGUARD_MASTER_KEY": env_key.export_base64()}
    assert resolve_master_key(key_file, environ=env) == env_key
    assert resolve_master_key(key_file, environ={}) == master
    with pytest.raises(MasterKeyError) as err:
        resolve_master_key(tmp_path / "nope.key", environ={})
    assert "PHOTOGUARD_MASTER_KEY" in str(err.value) and "nope.key" in str(err.value)
    with pytest.raises(MasterKeyError, match="no key file was given"):
        resolve_master_key(None, environ={})
    # A set-but-broken variable is an error, not a silent fall-back to the file.
    with pytest.raises(MasterKeyError, match="PHOTOGUARD_MASTER_KEY"):
        resolve_master_key(key_file, environ={"PHOTOGUARD_MASTER_KEY": "not-a-key"})


def test_repr_and_str_hide_the_key(master):
    raw = base64.urlsafe_b64decode(master.export_base64())
    for text in (repr(master), str(master), f"{master}", repr([master])):
        assert master.key_id in text
        assert master.export_base64() not in text
        assert raw.hex() not in text
    assert not hasattr(master, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(master)
    assert copy.deepcopy(master) is master


def test_key_id_is_stable_and_not_a_hash_of_the_key(master):
    import hashlib

    raw = base64.urlsafe_b64decode(master.export_base64())
    assert len(master.key_id) == 16
    assert master.key_id == MasterKey(raw).key_id
    assert master.key_id != hashlib.sha256(raw).hexdigest()[:16]
    assert master.key_id != MasterKey.generate().key_id


# --- wrapped data keys ---------------------------------------------------------------------


def test_wrap_unwrap_round_trip(master):
    data_key = new_data_key()
    wrapped = wrap_key(master, data_key, person_id="P-17")
    assert data_key not in wrapped
    assert unwrap_key(master, wrapped, person_id="P-17") == data_key
    assert wrapped_key_id(wrapped) == master.key_id
    assert wrap_key(master, data_key, person_id="P-17") != wrapped, "nonce must be fresh"


def test_wrapped_key_moved_to_another_person_fails(master):
    wrapped = wrap_key(master, new_data_key(), person_id="P-17")
    with pytest.raises(DecryptionError, match="another person"):
        unwrap_key(master, wrapped, person_id="P-18")


def test_unwrap_with_wrong_master_key_names_both_key_ids(master):
    other = MasterKey.generate()
    wrapped = wrap_key(master, new_data_key(), person_id=7)
    with pytest.raises(DecryptionError) as err:
        unwrap_key(other, wrapped, person_id=7)
    assert master.key_id in str(err.value) and other.key_id in str(err.value)


def test_tampered_wrapped_key_fails(master):
    wrapped = bytearray(wrap_key(master, new_data_key(), person_id="P-1"))
    wrapped[-1] ^= 0x01
    with pytest.raises(DecryptionError):
        unwrap_key(master, bytes(wrapped), person_id="P-1")


def test_rewrap_moves_a_data_key_to_a_new_master(master):
    new = MasterKey.generate()
    data_key = new_data_key()
    rewrapped = rewrap_key(master, new, wrap_key(master, data_key, person_id="a"), person_id="a")
    assert wrapped_key_id(rewrapped) == new.key_id
    assert unwrap_key(new, rewrapped, person_id="a") == data_key


# --- records and embeddings ----------------------------------------------------------------


def test_encrypt_round_trip_and_format():
    data_key = new_data_key()
    blob = encrypt(data_key, b"secret template", aad=b"face:1")
    assert blob[0] == 1 and len(blob) == 1 + 12 + len(b"secret template") + 16
    assert decrypt(data_key, blob, aad=b"face:1") == b"secret template"


def test_wrong_key_wrong_aad_and_tampering_all_fail():
    data_key = new_data_key()
    blob = encrypt(data_key, b"payload", aad=b"face:1")
    with pytest.raises(DecryptionError):
        decrypt(new_data_key(), blob, aad=b"face:1")
    with pytest.raises(DecryptionError):
        decrypt(data_key, blob, aad=b"face:2")
    for position in (0, 5, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0x80
        with pytest.raises(DecryptionError):
            decrypt(data_key, bytes(tampered), aad=b"face:1")
    with pytest.raises(DecryptionError):
        decrypt(data_key, blob[:-1], aad=b"face:1")


def test_bad_data_key_and_aad_types_are_refused():
    with pytest.raises(CryptoError):
        encrypt(b"short", b"x", aad=b"")
    with pytest.raises(TypeError):
        encrypt(new_data_key(), b"x", aad="face:1")  # type: ignore[arg-type]


def test_embedding_round_trip_is_exact():
    data_key = new_data_key()
    vector = np.random.default_rng(1).normal(size=128)
    blob = encrypt_embedding(data_key, vector, aad=b"face:9")
    out = decrypt_embedding(data_key, blob, aad=b"face:9")
    assert out.dtype == np.float64 and out.shape == (128,)
    assert np.array_equal(out, vector)
    out[0] = 0.0  # writable, a copy
    with pytest.raises(DecryptionError):
        decrypt_embedding(data_key, blob, aad=b"face:10")


def test_embedding_shape_and_values_checked():
    data_key = new_data_key()
    with pytest.raises(ValueError, match="shape"):
        encrypt_embedding(data_key, np.zeros(127), aad=b"")
    bad = np.zeros(128)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        encrypt_embedding(data_key, bad, aad=b"")
    # A generic record is not accepted as an embedding, even of the right length.
    blob = encrypt(data_key, np.zeros(128).tobytes(), aad=b"face:1")
    with pytest.raises(DecryptionError):
        decrypt_embedding(data_key, blob, aad=b"face:1")


def test_crypto_shredding_deleting_the_wrapped_key_makes_embeddings_unreadable(master):
    """The catalogue holds only wrapped keys. Once a person's row is deleted, no key
    that remains (the master key, other people's keys) can read their embeddings."""
    store: dict[str, bytes] = {}
    embeddings: dict[str, bytes] = {}
    vectors = {pid: np.random.default_rng(i).normal(size=128) for i, pid in enumerate("AB")}
    for pid, vector in vectors.items():
        data_key = new_data_key()
        store[pid] = wrap_key(master, data_key, person_id=pid)
        embeddings[pid] = encrypt_embedding(data_key, vector, aad=f"face:{pid}".encode())
        del data_key

    del store["A"]  # shred A

    remaining_keys = [unwrap_key(master, w, person_id=pid) for pid, w in store.items()]
    remaining_keys.append(master.derive_key("photoguard/wrap-data-key/v1"))
    for key in remaining_keys:
        with pytest.raises(DecryptionError):
            decrypt_embedding(key, embeddings["A"], aad=b"face:A")
    # B is unaffected.
    b_key = unwrap_key(master, store["B"], person_id="B")
    assert np.array_equal(decrypt_embedding(b_key, embeddings["B"], aad=b"face:B"), vectors["B"])


# --- chunked files -------------------------------------------------------------------------


def _frames(blob: bytes, chunk: int) -> tuple[bytes, list[bytes]]:
    """Split an encrypted file into its header and whole frames."""
    header, rest = blob[: _STREAM_HEADER.size], blob[_STREAM_HEADER.size :]
    frames = []
    while rest:
        _final, length, _nonce = _FRAME_HEADER.unpack(rest[: _FRAME_HEADER.size])
        size = _FRAME_HEADER.size + length
        frames.append(rest[:size])
        rest = rest[size:]
    return header, frames


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4000, 4321])
def test_file_round_trip(tmp_path, master, size):
    src = tmp_path / "plain.bin"
    src.write_bytes(os.urandom(size))
    enc, out = tmp_path / "enc.bin", tmp_path / "out.bin"
    assert encrypt_file(master, src, enc, chunk_size=1000) == size
    assert stat.S_IMODE(enc.stat().st_mode) == 0o600
    assert decrypt_file(master, enc, out) == size
    assert out.read_bytes() == src.read_bytes()


def test_file_with_data_key_and_key_kind_checked(tmp_path, master):
    src = tmp_path / "plain.bin"
    src.write_bytes(b"original photo bytes" * 100)
    data_key = new_data_key()
    enc = tmp_path / "enc.bin"
    encrypt_file(data_key, src, enc, chunk_size=256)
    with pytest.raises(DecryptionError, match="data key"):
        decrypt_file(master, enc, tmp_path / "x")
    with pytest.raises(DecryptionError, match="encrypted with key"):
        decrypt_file(new_data_key(), enc, tmp_path / "x")
    decrypt_file(data_key, enc, tmp_path / "ok")
    assert (tmp_path / "ok").read_bytes() == src.read_bytes()
    assert not (tmp_path / "x").exists()


@pytest.fixture
def encrypted_file(tmp_path, master):
    src = tmp_path / "plain.bin"
    src.write_bytes(os.urandom(3500))  # frames of 1000, 1000, 1000, 500
    enc = tmp_path / "enc.bin"
    encrypt_file(master, src, enc, chunk_size=1000)
    header, frames = _frames(enc.read_bytes(), 1000)
    assert len(frames) == 4
    return enc, header, frames


def _assert_rejected(master, tmp_path, blob: bytes, match: str) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(blob)
    out = tmp_path / "restored.bin"
    out.write_bytes(b"previous content")
    with pytest.raises(DecryptionError, match=match):
        decrypt_file(master, bad, out)
    assert out.read_bytes() == b"previous content", "a failed decrypt must not touch dst"


def test_file_truncated_at_a_frame_boundary_is_detected(tmp_path, master, encrypted_file):
    _enc, header, frames = encrypted_file
    _assert_rejected(master, tmp_path, header + b"".join(frames[:2]), "without its final frame")
    _assert_rejected(master, tmp_path, header + b"".join(frames[:3]), "without its final frame")
    _assert_rejected(master, tmp_path, header, "without its final frame")


def test_file_truncated_mid_frame_is_detected(tmp_path, master, encrypted_file):
    enc, _header, _frames_ = encrypted_file
    _assert_rejected(master, tmp_path, enc.read_bytes()[:-7], "truncated inside frame 3")


def test_file_frames_reordered_dropped_or_repeated_are_detected(tmp_path, master, encrypted_file):
    _enc, header, f = encrypted_file
    _assert_rejected(master, tmp_path, header + f[1] + f[0] + f[2] + f[3], "frame 0")
    _assert_rejected(master, tmp_path, header + f[0] + f[2] + f[1] + f[3], "frame 1")
    _assert_rejected(master, tmp_path, header + f[0] + f[2] + f[3], "frame 1")
    _assert_rejected(master, tmp_path, header + f[0] + f[0] + f[1] + f[2] + f[3], "frame 1")


def test_file_final_flag_cannot_be_forged_to_hide_truncation(tmp_path, master, encrypted_file):
    _enc, header, f = encrypted_file
    forged = bytearray(f[1])
    forged[0] = 1  # claim frame 1 is the last one
    _assert_rejected(master, tmp_path, header + f[0] + bytes(forged), "frame 1")


def test_file_tampered_byte_and_trailing_data_are_detected(tmp_path, master, encrypted_file):
    enc, header, f = encrypted_file
    tampered = bytearray(f[2])
    tampered[-3] ^= 0x01
    _assert_rejected(master, tmp_path, header + f[0] + f[1] + bytes(tampered) + f[3], "frame 2")
    _assert_rejected(master, tmp_path, enc.read_bytes() + b"x", "after the final frame")
    bad_header = bytearray(header)
    bad_header[-5] ^= 0x01  # inside the salt
    _assert_rejected(master, tmp_path, bytes(bad_header) + b"".join(f), "frame 0")


def test_file_wrong_master_key_and_wrong_aad(tmp_path, master, encrypted_file):
    enc, _header, _f = encrypted_file
    with pytest.raises(DecryptionError, match="encrypted with key"):
        decrypt_file(MasterKey.generate(), enc, tmp_path / "x")
    with pytest.raises(DecryptionError, match="frame 0"):
        decrypt_file(master, enc, tmp_path / "x", aad=b"other context")
