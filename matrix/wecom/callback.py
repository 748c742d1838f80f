"""WeCom callback crypto (the WXBizMsgCrypt scheme) and the customer-group change events it carries.

WeCom signs every callback with msg_signature = sha1 of the sorted [token, timestamp, nonce, encrypt]
joined, and encrypts the message with AES-256-CBC: the key is base64(EncodingAESKey + "="), the IV its
first 16 bytes, PKCS#7 padding to 32-byte blocks. The plaintext is 16 random bytes, the message length
as 4 bytes in network order, the message, then the receive id (the corp id, checked here).
Checking a callback URL is a GET with an encrypted `echostr`, answered with its plain text.
"""
import base64
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
AES_KEY_CHARS = 43


class CallbackError(Exception):
    """A callback that is not WeCom's, or not readable; `code` names why (for logs and the 4xx answer)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: sha1 of the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def check_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; ValueError when it is not one."""
    if len(encoding_aes_key) != AES_KEY_CHARS or not encoding_aes_key.isalnum() or not encoding_aes_key.isascii():
        raise ValueError("an EncodingAESKey is 43 letters and digits")
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


class CallbackCrypto:
    """Verify, decrypt and (for tests and replies) encrypt the callbacks of one WeCom app."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token, self.receive_id = token, receive_id
        self.key = check_aes_key(encoding_aes_key)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise CallbackError unless msg_signature signs this timestamp, nonce and ciphertext."""
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise CallbackError("bad_signature")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plain echo of a URL check, once its signature and receive id are right."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr).decode("utf-8")

    def open_message(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        """The decrypted XML of a callback POST body (<xml><Encrypt>...</Encrypt>...</xml>)."""
        encrypted = (_parse(body).findtext("Encrypt") or "").strip()
        if not encrypted:
            raise CallbackError("no_encrypt")
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside a base64 ciphertext, once its padding, length and receive id are right."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (ValueError, TypeError):
            raise CallbackError("bad_base64") from None
        if not data or len(data) % 16:
            raise CallbackError("bad_ciphertext")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise CallbackError("bad_padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        message, receive_id = content[4:4 + length], content[4 + length:]
        if len(message) != length or not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise CallbackError("wrong_receiver")
        return message

    def encrypt(self, message: bytes, *, random_bytes: bytes | None = None) -> str:
        """The base64 ciphertext WeCom would send for `message` (used by replies and the test stand-in)."""
        body = (random_bytes or os.urandom(16)) + struct.pack(">I", len(message)) + message \
            + self.receive_id.encode("utf-8")
        pad = BLOCK - len(body) % BLOCK
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(body + bytes([pad]) * pad) + encryptor.finalize()).decode()


@dataclass(frozen=True)
class ChatEvent:
    """A customer-group event (change_external_chat): created, updated (members joined or left), dismissed."""

    chat_id: str
    change_type: str                 # create, update, dismiss
    update_detail: str = ""          # add_member, del_member, change_owner, change_name, change_notice
    join_scene: int | None = None    # 0 invited by a member, 3 scanned the group's QR code
    quit_scene: int | None = None
    member_change_count: int = 0
    member_ids: list[str] = field(default_factory=list)
    last_member_version: str = ""
    member_version: str = ""
    created_at: int = 0              # unix seconds

    @property
    def joined(self) -> bool:
        return self.change_type == "update" and self.update_detail == "add_member"

    @property
    def left(self) -> bool:
        return self.change_type == "update" and self.update_detail == "del_member"


def parse_event(message: bytes) -> ChatEvent | None:
    """The customer-group event in a decrypted message; None for any other event (WeCom sends many)."""
    root = _parse(message)
    if (root.findtext("Event") or "").strip() != "change_external_chat":
        return None
    chat_id = (root.findtext("ChatId") or "").strip()
    if not chat_id:
        raise CallbackError("no_chat_id")
    return ChatEvent(chat_id=chat_id[:64], change_type=(root.findtext("ChangeType") or "").strip(),
                     update_detail=(root.findtext("UpdateDetail") or "").strip(),
                     join_scene=_int(root.findtext("JoinScene")), quit_scene=_int(root.findtext("QuitScene")),
                     member_change_count=_int(root.findtext("MemChangeCnt")) or 0,
                     member_ids=_member_ids(root.find("MemChangeList")),
                     last_member_version=(root.findtext("LastMemVer") or "").strip()[:64],
                     member_version=(root.findtext("CurMemVer") or "").strip()[:64],
                     created_at=_int(root.findtext("CreateTime")) or 0)


def _member_ids(element: Element | None) -> list[str]:
    """<MemChangeList><Item>a</Item>...</MemChangeList>, or the older comma-separated text."""
    if element is None:
        return []
    items = [(item.text or "").strip() for item in element.findall("Item")]
    if not items:
        items = [part.strip() for part in (element.text or "").split(",")]
    return [item[:64] for item in items if item][:1000]


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _parse(data: bytes) -> Element:
    # defusedxml refuses entity and DTD tricks: the outer body is read before its signature is checked.
    try:
        return ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise CallbackError("bad_xml") from None
