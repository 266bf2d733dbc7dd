"""Facegate's Python client: every route of a Facegate server, typed errors, Retry-After, and verification of
signed answers against the request that was sent. Standard library only; the signature check needs the
``cryptography`` package (Debian: ``apt-get install python3-cryptography``)."""
from .client import ROUTES, FacegateClient
from .errors import FacegateError, FacegateProtocolError, SignatureError
from .images import to_base64
from .transport import Answer
from .verify import canonical_json, request_digest, verify_answer

__all__ = [
    "ROUTES",
    "Answer",
    "FacegateClient",
    "FacegateError",
    "FacegateProtocolError",
    "SignatureError",
    "canonical_json",
    "request_digest",
    "to_base64",
    "verify_answer",
]
