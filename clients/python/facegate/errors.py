"""Typed errors: every refusal the server sends is ``{message, code}`` (plus ``field``, ``hint``, ``details`` where
it has them); the client raises it as a FacegateError carrying those, so callers branch on ``code``, not on text."""


class FacegateError(Exception):
    """A refusal from the server (any 4xx/5xx with Facegate's error body)."""

    def __init__(self, status, body, request_id=None, retry_after=None):
        super().__init__(body.get("message", ""))
        self.status = status
        self.code = body.get("code")
        self.message = body.get("message", "")
        self.field = body.get("field")
        self.hint = body.get("hint")
        self.details = body.get("details")
        #: The server's request id (x-request-id), to quote when asking about this error.
        self.request_id = request_id
        #: Seconds the server asked to wait (Retry-After on 429 and 503), when it said.
        self.retry_after = retry_after

    def __str__(self):
        return "%s %s: %s" % (self.status, self.code, self.message)


class FacegateProtocolError(Exception):
    """The answer was not what a Facegate server sends (a proxy's HTML page, a cut connection)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class SignatureError(Exception):
    """A signed answer failed verification; ``reason`` names the check (signature, request, data, client, freshness)."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
