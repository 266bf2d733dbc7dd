"""The transport: one HTTP call per request (standard library only), the envelope unwrapped, errors typed, 429 and
503 retried after the server's Retry-After."""
import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from .errors import FacegateError, FacegateProtocolError


class Answer(dict):
    """A success, ``{id, data, signature}`` as sent, with ``.request``: the request it answers (method, path with
    query, body), which verifying its signature needs. ``answer.data`` and ``answer["data"]`` are the same."""

    def __init__(self, body, request):
        super().__init__(body)
        self.request = request

    @property
    def data(self):
        return self.get("data")

    @property
    def id(self):
        return self.get("id")

    @property
    def signature(self):
        return self.get("signature")


def query_string(query):
    if not query:
        return ""
    pairs = []
    for k, v in query.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        pairs.append((k, str(v)))
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def retry_after_seconds(value, now=None):
    """Retry-After is seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        at = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0, int(at - (now if now is not None else time.time()) + 0.999))


class Transport:
    def __init__(self, base_url, token, retries=3, max_retry_delay=30.0, timeout=120.0, opener=None, sleep=time.sleep):
        if not base_url:
            raise ValueError("base_url is required")
        if not token:
            raise ValueError("token is required")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retries = retries
        self.max_retry_delay = max_retry_delay
        self.timeout = timeout
        self._open = opener or urllib.request.urlopen
        self._sleep = sleep

    def call(self, method, path, body=None, auth=True):
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + self.token
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode("utf-8")
        request = {"method": method, "path": path}
        if body is not None:
            request["body"] = body
        attempt = 0
        while True:
            req = urllib.request.Request(self.base_url + path, data=payload, method=method, headers=headers)
            try:
                with self._open(req, timeout=self.timeout) as res:
                    status, text, h = res.status, res.read().decode("utf-8"), res.headers
            except urllib.error.HTTPError as e:
                status, text, h = e.code, e.read().decode("utf-8", "replace"), e.headers
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                raise FacegateProtocolError(status, "%s %s: HTTP %d with a body that is not JSON (%s)" % (method, path, status, text[:80]))
            if 200 <= status < 300:
                if not isinstance(parsed, dict):
                    raise FacegateProtocolError(status, "%s %s: an empty answer" % (method, path))
                return Answer(parsed, request)
            retry_after = retry_after_seconds(h.get("Retry-After") if h else None)
            if status in (429, 503) and attempt < self.retries:
                # Without Retry-After: 1 s, 2 s, 4 s... The server's word wins when it gave one.
                wait = retry_after if retry_after is not None else 2 ** attempt
                self._sleep(min(self.max_retry_delay, wait))
                attempt += 1
                continue
            if not isinstance(parsed, dict) or not isinstance(parsed.get("code"), str):
                raise FacegateProtocolError(status, "%s %s: HTTP %d without Facegate's error body" % (method, path, status))
            raise FacegateError(status, parsed, request_id=h.get("x-request-id") if h else None, retry_after=retry_after)
