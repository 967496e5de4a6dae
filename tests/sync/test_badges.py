"""Badge tokens: the round trip, every refusal code, and hostile input that must never raise."""

import base64
from datetime import date

import pytest
import qrcode
from hypothesis import given, settings, strategies as st

from sync import badges
from sync.badges import KeyRing, generate_key, issue, verify

TODAY = date(2026, 11, 30)


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def ring(key):
    return KeyRing({key.kid: key.public_key})


def token_for(key, vid="14020200001", serial=7, role="volunteer", expires=date(2029, 12, 31)):
    return issue(key, vid, serial, role, expires)


def test_round_trip_carries_every_field(key, ring):
    check = verify(token_for(key, role="coordinator"), ring, today=TODAY)
    assert check.as_dict() == {"valid": True, "code": "ok", "vid": "14020200001", "serial": 7,
                               "role": "coordinator", "expires": "2029-12-31", "kid": key.kid}


def test_longest_badge_fits_qr_version_7_at_m(key):
    token = token_for(key, vid="X" * 24, serial=2**32 - 1)
    assert len(token) <= badges.MAX_TOKEN_CHARS
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(token)
    qr.make(fit=True)
    assert qr.version <= 7


@pytest.mark.parametrize("text", [
    "https://example.com/pay?id=1", "6901234567892", "weixin://wxpay/bizpayurl?pr=abc",
    "https://qr.alipay.com/fkx12345", "", "\x00\x01\x02", "wg1:lowercase",
])
def test_foreign_texts(text, ring):
    assert verify(text, ring, today=TODAY).code == "foreign"


def test_truncated_token_is_malformed(key, ring):
    token = token_for(key)
    for cut in (5, 20, 60, len(token) - 10):
        assert verify(token[:cut], ring, today=TODAY).code in ("malformed", "bad_signature")
    assert verify(token[:20], ring, today=TODAY).code == "malformed"


@pytest.mark.parametrize("junk", ["WG1:", "WG1:!!!!", "WG1:" + "A" * 3000, "WG1:ABC\x07DEF", "WG1:" + "中文" * 10])
def test_malformed(junk, ring):
    check = verify(junk, ring, today=TODAY)
    assert (check.valid, check.code) == (False, "malformed")


def test_tampered_body_fails_signature(key, ring):
    token = token_for(key)
    raw = bytearray(base64.b32decode(token[4:] + "=" * (-len(token[4:]) % 8)))
    raw[9] ^= 0x01  # one bit of the serial (header: version, role, kid[4], serial[4], ...)
    forged = "WG1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")
    check = verify(forged, ring, today=TODAY)
    assert (check.valid, check.code, check.vid) == (False, "bad_signature", None)


def test_signed_by_another_center_is_unknown_key(ring):
    other = generate_key()
    assert verify(token_for(other), ring, today=TODAY).code == "unknown_key"


def test_forged_with_a_known_kid_but_wrong_key(key, ring):
    impostor = badges.SigningKey(key.kid, generate_key().private_key)  # claims the real kid
    assert verify(token_for(impostor), ring, today=TODAY).code == "bad_signature"


def test_expired(key, ring):
    token = token_for(key, expires=date(2026, 11, 29))
    assert verify(token, ring, today=TODAY).code == "expired"
    assert verify(token, ring, today=date(2026, 11, 29)).code == "ok"  # valid through its last day


def test_revoked_serial(key):
    ring = KeyRing({key.kid: key.public_key}, revoked_serials={7})
    assert verify(token_for(key, serial=7), ring, today=TODAY).code == "revoked"
    assert verify(token_for(key, serial=8), ring, today=TODAY).code == "ok"


def test_every_reason_code_is_reachable(key, ring):
    reached = {
        verify(token_for(key), ring, today=TODAY).code,
        verify("hello", ring, today=TODAY).code,
        verify("WG1:#", ring, today=TODAY).code,
        verify(token_for(generate_key()), ring, today=TODAY).code,
        verify(token_for(badges.SigningKey(key.kid, generate_key().private_key)), ring, today=TODAY).code,
        verify(token_for(key, expires=date(2020, 1, 1)), ring, today=TODAY).code,
        verify(token_for(key), KeyRing(ring.public_keys, {7}), today=TODAY).code,
    }
    assert reached == set(badges.REASON_CODES)


def test_trailing_newline_from_a_scanner_is_tolerated(key, ring):
    assert verify(token_for(key) + "\r\n", ring, today=TODAY).code == "ok"


@pytest.mark.parametrize("vid", ["140202198001011234", "", "ab", "has space", "中文编号", "x" * 25])
def test_issue_refuses_bad_volunteer_numbers(key, vid):
    with pytest.raises(ValueError):
        issue(key, vid, 1)


def test_issue_refuses_bad_role_and_serial(key):
    with pytest.raises(ValueError):
        issue(key, "14020200001", 1, role="admin")
    with pytest.raises(ValueError):
        issue(key, "14020200001", 0)


def test_key_files_round_trip(tmp_path):
    key = badges.init_keys(tmp_path)
    second = badges.init_keys(tmp_path)  # rotation: the old key keeps verifying
    assert badges.load_signing_key(tmp_path).kid == second.kid
    ring = KeyRing(badges.load_public_keys(tmp_path))
    assert verify(token_for(key), ring, today=TODAY).code == "ok"
    assert verify(token_for(second), ring, today=TODAY).code == "ok"
    assert oct((tmp_path / f"{key.kid}.private.pem").stat().st_mode & 0o777) == "0o600"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=300).map(lambda b: "WG1:" + base64.b32encode(b).decode()))
def test_verify_never_raises(text):
    key = generate_key()
    check = verify(text, KeyRing({key.kid: key.public_key}), today=TODAY)
    assert not check.valid and check.code in badges.REASON_CODES


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 7))
def test_any_single_bit_flip_is_refused(position, bit):
    key = generate_key()
    token = token_for(key)
    body = token[4:]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[position % len(raw)] ^= 1 << bit
    forged = "WG1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert not verify(forged, KeyRing({key.kid: key.public_key}), today=TODAY).valid


@pytest.mark.parametrize("around", [(" ", ""), ("", " "), ("\t", "\r\n"), ("", "\n")])
def test_white_space_around_a_badge_is_not_part_of_it(key, ring, around):
    # A USB scanner's suffix or a pasted line: leading and trailing alike (leading was "foreign").
    token = issue(key, "14020200001", 7, "volunteer", date(2030, 1, 1))
    check = verify(around[0] + token + around[1], ring, today=date(2026, 11, 30))
    assert (check.valid, check.vid) == (True, "14020200001")
