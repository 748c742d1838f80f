"""Leads' phone numbers: encrypted at rest, hashed with a key to find duplicates, shown masked.

The keys come from the environment (config LEAD_PHONE_KEY, LEAD_HASH_KEY). The hash is keyed
(HMAC-SHA256) because China's mobile numbers are few enough to hash them all: a plain SHA-256
column would give every number away to anyone holding a copy of the database.
"""
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from flask_babel import gettext as _

from matrix.errors import DomainError

# +86 / 0086 / 86 in front of an 11-digit mobile number.
_COUNTRY = re.compile(r"^(?:\+?0{0,2}86)(?=1[0-9]{10}$)")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_DIGITS = re.compile(r"[0-9]+")
# What people type between digits: spaces, dashes of every width, dots, brackets, invisible joiners.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc().\u200b-\u200d\u2060\ufeff]")


@dataclass(frozen=True)
class PhoneFields:
    encrypted: bytes
    hash: str
    masked: str


class PhoneError(DomainError):
    """Not something that can be dialled."""


def normalise_phone(phone) -> str:
    """The digits to dial in China: '+86 138-0013-8000' -> '13800138000'; raises PhoneError.

    Full-width and other Unicode digits become ASCII (NFKC, then each digit's value), so the same
    number typed on a Chinese keyboard or pasted from elsewhere has the same hash for duplicates.
    """
    if not isinstance(phone, (str, int)) or isinstance(phone, bool):
        raise PhoneError(_("The phone number must be one number written as text."), field="phone")
    text = unicodedata.normalize("NFKC", str(phone)).strip()
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    digits = _SEPARATORS.sub("", text)
    digits = _COUNTRY.sub("", digits)
    if not _DIGITS.fullmatch(digits) or not 7 <= len(digits) <= 15:
        raise PhoneError(_("The phone number is not a number that can be dialled."), field="phone")
    if len(digits) == 11 and digits.startswith("1") and not _MOBILE.match(digits):
        raise PhoneError(_("The phone number is not a valid mobile number."), field="phone")
    return digits


def mask_phone(phone: str | None) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    if not phone:
        return ""
    digits = "".join(c for c in str(phone) if c.isdigit())
    if len(digits) < 7:
        return "****"
    return digits[:3] + "****" + digits[-4:]


def protect_phone(phone) -> PhoneFields:
    """Encrypt, hash and mask a phone number for storing on a lead."""
    digits = normalise_phone(phone)
    return PhoneFields(encrypted=_fernet().encrypt(digits.encode()), hash=phone_hash(digits), masked=mask_phone(digits))


def phone_hash(phone) -> str:
    """The keyed hash of a number (hex, 64 characters): equal numbers, equal hashes."""
    digits = normalise_phone(phone)
    key = str(current_app.config["LEAD_HASH_KEY"]).encode()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def decrypt_phone(encrypted: bytes | None) -> str:
    """The number in clear. Callers show it to a person only after audit-logging that (reveal, export)."""
    if not encrypted:
        return ""
    try:
        return _fernet().decrypt(bytes(encrypted)).decode()
    except InvalidToken:
        # A key was lost or replaced without keeping the old one in LEAD_PHONE_KEY.
        raise DomainError(_("The phone number cannot be decrypted with the configured key.")) from None


def encrypt_text(text: str) -> bytes:
    """Encrypt a short secret (a lead source's signing secret) with the phone key."""
    return _fernet().encrypt(text.encode())


def decrypt_text(token: bytes | None) -> str:
    """The clear text of encrypt_text's result."""
    return decrypt_phone(token)


def keyed_digest(data: bytes) -> str:
    """A keyed fingerprint of bytes (a webhook body), safe to store: it gives nothing of them away."""
    key = str(current_app.config["LEAD_HASH_KEY"]).encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _fernet() -> MultiFernet:
    return _fernet_for(str(current_app.config["LEAD_PHONE_KEY"]))


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    # Several comma-separated keys rotate: the first encrypts, every one decrypts.
    return MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])
