"""FacegateClient: one method per route of the server, with the request fields as keyword arguments named as on the
wire. tests/test_client.py walks the server's OpenAPI document: a route or a field missing or misnamed here fails.
Images are raw base64 strings (``facegate.to_base64(path_or_bytes)`` makes one)."""
import urllib.parse

from .transport import Transport, query_string

#: method name -> (HTTP method, path template, query parameter names). Other arguments travel in the JSON body.
ROUTES = {
    "health": ("GET", "/health", ()),
    "jwks": ("GET", "/.well-known/jwks.json", ()),
    "create_collection": ("POST", "/v2/face-recognition/collections", ()),
    "list_collections": ("GET", "/v2/face-recognition/collections", ("page", "limit", "name")),
    "get_collection": ("GET", "/v2/face-recognition/collections/{id}", ()),
    "update_collection": ("PUT", "/v2/face-recognition/collections/{id}", ()),
    "delete_collection": ("DELETE", "/v2/face-recognition/collections/{id}", ()),
    "create_person": ("POST", "/v2/face-recognition/persons", ()),
    "list_persons": ("GET", "/v2/face-recognition/persons", ("page", "limit", "collection", "name", "external_id", "photo_sha256", "after")),
    "get_person": ("GET", "/v2/face-recognition/persons/{id}", ()),
    "update_person": ("PUT", "/v2/face-recognition/persons/{id}", ()),
    "delete_person": ("DELETE", "/v2/face-recognition/persons/{id}", ("collection",)),
    "search_active_user": ("POST", "/v2/face-recognition/search-active-user", ()),
    "search_live_face": ("POST", "/v2/face-recognition/persons/search-live-face", ()),
    "search_live_face_only": ("POST", "/v2/face-recognition/search-live-face", ()),
    "search": ("POST", "/v2/face-recognition/search", ()),
    "search_crops": ("POST", "/v2/face-recognition/search/crops", ()),
    "verify": ("POST", "/v2/face-recognition/verify", ()),
    "compare": ("POST", "/v2/face-recognition/compare", ()),
    "compare_live": ("POST", "/v2/face-recognition/compare-live", ()),
    "compare_with_liveness": ("POST", "/v2/face-recognition/compare-with-liveness", ()),
    "liveness": ("POST", "/v2/face-recognition/liveness", ()),
    "detect": ("POST", "/v2/face-recognition/detect", ()),
    "create_liveness_session": ("POST", "/v2/face-recognition/liveness/sessions", ()),
    "get_liveness_session": ("GET", "/v2/face-recognition/liveness/sessions/{session_id}", ()),
    "post_liveness_frames": ("POST", "/v2/face-recognition/liveness/sessions/{session_id}/frames", ()),
    "create_record": ("POST", "/v2/persons", ()),
    "create_record_with_liveness": ("POST", "/v2/persons/liveness", ()),
    "list_records": ("GET", "/v2/persons", ("page", "limit")),
    "get_record": ("GET", "/v2/persons/{id}", ()),
    "update_record": ("PUT", "/v2/persons/{id}", ()),
    "delete_record": ("DELETE", "/v2/persons/{id}", ()),
}

_UNAUTHENTICATED = ("health", "jwks")


def _quote(v):
    return urllib.parse.quote(str(v), safe="")


class FacegateClient:
    """A Facegate server: ``FacegateClient("http://127.0.0.1:3000", token)``.

    Every call returns an ``Answer`` (a dict ``{id, data, signature}`` with ``.data`` and ``.request``) or raises
    ``FacegateError`` with the server's ``status``, ``code``, ``hint``. 429 and 503 are retried after the server's
    Retry-After (``retries=0`` turns that off)."""

    def __init__(self, base_url, token, retries=3, max_retry_delay=30.0, timeout=120.0, opener=None):
        self._http = Transport(base_url, token, retries=retries, max_retry_delay=max_retry_delay, timeout=timeout, opener=opener)

    @property
    def base_url(self):
        return self._http.base_url

    def call(self, route, params=None, query=None, body=None):
        """Any route by name (a key of ROUTES): path parameters, query and JSON body given apart."""
        method, template, _ = ROUTES[route]
        path = template
        for k, v in (params or {}).items():
            path = path.replace("{%s}" % k, _quote(v))
        if "{" in path:
            raise TypeError("%s: missing path parameter in %s" % (route, template))
        return self._http.call(method, path + query_string(query), body, auth=route not in _UNAUTHENTICATED)

    def _route(self, route, args):
        """Sorts a method's arguments into path parameters, query and body; None means 'not sent'."""
        method, template, query_names = ROUTES[route]
        args = {k: v for k, v in args.items() if k != "self" and v is not None}
        params = {k: args.pop(k) for k in list(args) if "{%s}" % k in template}
        query = {k: args.pop(k) for k in list(args) if k in query_names}
        body = args if method in ("POST", "PUT", "PATCH") else None
        if body is None and args:
            raise TypeError("%s takes no body: %s" % (route, ", ".join(sorted(args))))
        return self.call(route, params=params, query=query, body=body)

    def health(self):
        """Readiness."""
        return self._route("health", locals())

    def jwks(self):
        """Public key of the response signatures (signature.jws)."""
        return self._route("jwks", locals())

    def create_collection(self, name, *, description=None):
        """Create a collection."""
        return self._route("create_collection", locals())

    def list_collections(self, *, page=None, limit=None, name=None):
        """List collections."""
        return self._route("list_collections", locals())

    def get_collection(self, id):
        """Retrieve a collection."""
        return self._route("get_collection", locals())

    def update_collection(self, id, *, name=None, description=None, people=None):
        """Update a collection."""
        return self._route("update_collection", locals())

    def delete_collection(self, id):
        """Delete a collection."""
        return self._route("delete_collection", locals())

    def create_person(self, name, *, images=None, subject_faces=None, liveness_session_id=None, gender=None, date_of_birth=None, nationality=None, collections=None, notes=None, external_id=None):
        """Create a person."""
        return self._route("create_person", locals())

    def list_persons(self, *, page=None, limit=None, collection=None, name=None, external_id=None, photo_sha256=None, after=None):
        """List persons."""
        return self._route("list_persons", locals())

    def get_person(self, id):
        """Retrieve a person."""
        return self._route("get_person", locals())

    def update_person(self, id, *, name=None, images=None, subject_faces=None, gender=None, date_of_birth=None, nationality=None, collections=None, notes=None, external_id=None):
        """Update a person."""
        return self._route("update_person", locals())

    def delete_person(self, id, *, collection=None):
        """Delete a person."""
        return self._route("delete_person", locals())

    def search_active_user(self, image, os, min_score, search_mode, *, subject_face=None, collection_id=None):
        """Face search 1:N (active user)."""
        return self._route("search_active_user", locals())

    def search_live_face(self, name, gender, date_of_birth, collection_id, liveness_min_score, min_score, search_mode, *, images=None, subject_faces=None, liveness_session_id=None, nationality=None):
        """Create a person with liveness."""
        return self._route("search_live_face", locals())

    def search_live_face_only(self, image, os, liveness_min_score, min_score, search_mode, *, collection_id=None):
        """Face search 1:N with liveness."""
        return self._route("search_live_face_only", locals())

    def search(self, images, *, subject_faces=None, min_score=None, search_mode=None, collection_id=None, max_results=None):
        """Face search 1:N."""
        return self._route("search", locals())

    def search_crops(self, images, min_score, search_mode, *, collection_id=None, max_results=None):
        """Face search 1:N on face crops."""
        return self._route("search_crops", locals())

    def verify(self, id, images, *, subject_faces=None, min_score=None, search_mode=None, collection_id=None):
        """Verify 1:1 against an enrolled person."""
        return self._route("verify", locals())

    def compare(self, probe, gallery, *, probe_faces=None, gallery_faces=None, search_mode=None, compare_min_score=None, cropFace=None):
        """Compare photos 1:1."""
        return self._route("compare", locals())

    def compare_live(self, probe, gallery, os, search_mode, liveness_min_score, *, compare_min_score=None):
        """Compare 1:1 with liveness on the probe."""
        return self._route("compare_live", locals())

    def compare_with_liveness(self, probe, gallery, search_mode, *, liveness_min_score=None, compare_min_score=None, cropFace=None, os=None):
        """Compare 1:1, then liveness on the probe."""
        return self._route("compare_with_liveness", locals())

    def liveness(self, os, *, image=None, images=None, liveness_min_score=None, collection_id=None):
        """Passive liveness."""
        return self._route("liveness", locals())

    def detect(self, image, *, return_landmarks=None, return_attributes=None, min_score=None, search_mode=None, collection_id=None, max_results=None):
        """Detect faces."""
        return self._route("detect", locals())

    def create_liveness_session(self, *, steps=None, expires_in=None, max_attempts=None, min_score=None, valid_for=None, allowed_origin=None):
        """Create a liveness session."""
        return self._route("create_liveness_session", locals())

    def get_liveness_session(self, session_id):
        """Read a liveness session."""
        return self._route("get_liveness_session", locals())

    def post_liveness_frames(self, session_id, frames):
        """Post camera frames to a session."""
        return self._route("post_liveness_frames", locals())

    def create_record(self, firstName, lastName, *, email=None, phone=None, dateOfBirth=None, documentType=None, documentNumber=None, biometricData=None, liveness_min_score=None):
        """Create a person."""
        return self._route("create_record", locals())

    def create_record_with_liveness(self, firstName, lastName, *, email=None, phone=None, dateOfBirth=None, documentType=None, documentNumber=None, biometricData=None, liveness_session_id=None, liveness_min_score=None):
        """Create a person with liveness detection."""
        return self._route("create_record_with_liveness", locals())

    def list_records(self, *, page=None, limit=None):
        """List persons."""
        return self._route("list_records", locals())

    def get_record(self, id):
        """Retrieve a person."""
        return self._route("get_record", locals())

    def update_record(self, id, *, firstName=None, lastName=None, email=None, phone=None, dateOfBirth=None, documentType=None, documentNumber=None, biometricData=None):
        """Update a person."""
        return self._route("update_record", locals())

    def delete_record(self, id):
        """Delete a person."""
        return self._route("delete_record", locals())
