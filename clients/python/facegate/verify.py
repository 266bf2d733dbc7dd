"""verify_answer(): the verification rule of the server's docs/signatures.md for answers this client received. The
JWS must verify against the server's JWKS, and what it signs must be this answer (id, dateTime, data) to the
request this client sent (route, and the request digest over method, path with query and body, images as their
SHA-256), for the expected client, recently enough. Ed25519 needs the ``cryptography`` package."""
import base64
import datetime
import hashlib
import json
import math
import re

from .errors import SignatureError

#: Request fields (at any depth) whose strings are images: the digest holds their bytes' SHA-256 instead.
IMAGE_KEYS = frozenset(["image", "images", "probe", "gallery", "faceImage"])


def _number(n):
    """ECMAScript's Number::toString, which RFC 8785 prescribes (1.0 -> "1", 1e-07 -> "1e-7")."""
    if isinstance(n, bool):
        return "true" if n else "false"
    if isinstance(n, int):
        return str(n)
    if not math.isfinite(n):
        raise ValueError("JSON has no %r" % n)
    if n == 0:
        return "0"
    if n.is_integer() and abs(n) < 1e21:
        return str(int(n))
    r = repr(n)  # shortest round-trip digits, as ECMAScript uses
    if "e" not in r:
        return r
    mantissa, exp = r.split("e")
    exp = int(exp)
    if -7 < exp < 21:  # ECMAScript writes these without an exponent: place the point in the same digits
        sign, m = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
        digits = m.replace(".", "")
        point = (m.index(".") if "." in m else len(m)) + exp
        if point <= 0:
            return sign + "0." + "0" * (-point) + digits
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return sign + digits[:point] + "." + digits[point:]
    return "%se%s%d" % (mantissa, "+" if exp > 0 else "-", abs(exp))


def canonical_json(v):
    """RFC 8785 canonical JSON of the values JSON bodies and answers hold."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, dict):
        # RFC 8785 sorts by UTF-16 code units.
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical_json(v[k]) for k in keys) + "}"
    raise TypeError("not a JSON value: %s" % type(v).__name__)


def _sha256(b):
    return hashlib.sha256(b).hexdigest()


def _with_digests(v, image=False):
    if isinstance(v, str):
        return "sha256:" + _sha256(base64.b64decode(re.sub(r"\s+", "", v))) if image else v
    if isinstance(v, (list, tuple)):
        return [_with_digests(x, image) for x in v]
    if isinstance(v, dict):
        return {k: _with_digests(x, k in IMAGE_KEYS) for k, x in v.items()}
    return v


def request_digest(request):
    """The ``request`` claim the server signs: SHA-256 of canonical ``{body, method, path}`` (images as digests)."""
    body = request.get("body")
    # What the server parsed is what json.dumps sent.
    body = None if body is None else _with_digests(json.loads(json.dumps(body)))
    return _sha256(canonical_json({"body": body, "method": request["method"].upper(), "path": request["path"]}).encode("utf-8"))


def _b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _verify_jws(jws, jwks):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        h64, p64, s64 = jws.split(".")
        header = json.loads(_b64url(h64))
    except ValueError:
        raise SignatureError("signature", "not a compact JWS")
    if header.get("alg") != "EdDSA":
        raise SignatureError("signature", "unexpected algorithm %r" % header.get("alg"))
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid") and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"]
    if not keys:
        raise SignatureError("signature", "no Ed25519 key %r in the JWKS" % header.get("kid"))
    try:
        Ed25519PublicKey.from_public_bytes(_b64url(keys[0]["x"])).verify(_b64url(s64), (h64 + "." + p64).encode("ascii"))
    except (InvalidSignature, ValueError):
        raise SignatureError("signature", "the JWS does not verify against the JWKS")
    return json.loads(_b64url(p64))


def verify_answer(answer, jwks, client=None, max_age=300.0, now=None):
    """Raises SignatureError (``reason`` names the failed check) unless ``answer`` (an Answer this client got) is the
    server's to the request that was sent. ``jwks``: ``client.jwks()``, fetched over TLS from the server you trust,
    or pinned. ``client``: your client (tenant) id, checked when given. Returns the signed claims."""
    jws = (answer.get("signature") or {}).get("jws")
    if not jws:
        raise SignatureError("signature", "the answer carries no JWS")
    claims = _verify_jws(jws, jwks)
    sent = getattr(answer, "request", None)
    if not sent:
        raise SignatureError("request", "the answer does not say which request it answers")
    if claims.get("id") != answer.get("id"):
        raise SignatureError("id", "the signed id is not the answer id")
    if claims.get("dateTime") != answer["signature"].get("dateTime"):
        raise SignatureError("dateTime", "the signed time is not the answer time")
    if canonical_json(claims.get("data")) != canonical_json(answer.get("data")):
        raise SignatureError("data", "the signed data is not the answer data")
    route = "%s %s" % (sent["method"].upper(), sent["path"].split("?")[0])
    if claims.get("route") != route:
        raise SignatureError("route", "signed for %s, not %s" % (claims.get("route"), route))
    if claims.get("request") != request_digest(sent):
        raise SignatureError("request", "signed for another request (method, path, query or body differ)")
    if client is not None and claims.get("client") != client:
        raise SignatureError("client", "signed for another client")
    signed = datetime.datetime.fromisoformat(claims["dateTime"].replace("Z", "+00:00")).timestamp()
    now = now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp()
    if not (now - signed <= max_age):
        raise SignatureError("freshness", "the answer is %d s old" % (now - signed))
    return claims
