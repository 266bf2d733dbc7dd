"""The Python client against a real Facegate server (test/clients/python.test.ts starts one and runs this with
FACEGATE_URL, FACEGATE_TOKEN, FACEGATE_CLIENT_ID and FACEGATE_FACE, a photo of one face, in the environment)."""
import inspect
import json
import os
import re
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import facegate  # noqa: E402
from facegate import FacegateClient, FacegateError, ROUTES, SignatureError, to_base64, verify_answer  # noqa: E402

URL = os.environ.get("FACEGATE_URL")
TOKEN = os.environ.get("FACEGATE_TOKEN")
CLIENT_ID = os.environ.get("FACEGATE_CLIENT_ID")
FACE = os.environ.get("FACEGATE_FACE")
LIMITED_URL = os.environ.get("FACEGATE_LIMITED_URL")
LIMITED_TOKEN = os.environ.get("FACEGATE_LIMITED_TOKEN")


def setUpModule():
    if not (URL and TOKEN and FACE):
        raise unittest.SkipTest("run by test/clients/python.test.ts, which starts a server (FACEGATE_URL is not set)")


def openapi():
    with urllib.request.urlopen(URL + "/openapi.json") as r:
        return json.loads(r.read())


class TheOpenApiDocument(unittest.TestCase):
    """Every route and field of the server's document is in the client, named as the server names it."""

    def test_every_route_has_a_method_and_every_method_a_route(self):
        doc = openapi()
        served = {}
        for path, ops in doc["paths"].items():
            if path.startswith("/v2/") or path in ("/.well-known/jwks.json", "/health"):
                for method, op in ops.items():
                    served[(method.upper(), path)] = op
        known = {(m, p): name for name, (m, p, _) in ROUTES.items()}
        self.assertEqual(sorted(set(served) - set(known)), [], "routes the client lacks")
        self.assertEqual(sorted(set(known) - set(served)), [], "routes the client names that the server has not")

        for (method, path), op in served.items():
            name = known[(method, path)]
            with self.subTest(route=name):
                fn = getattr(FacegateClient, name)
                params = {k: p for k, p in inspect.signature(fn).parameters.items() if k != "self"}
                path_params = set(re.findall(r"\{(\w+)\}", path))
                query = {q["name"]: q for q in op.get("parameters", []) if q["in"] == "query"}
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                props = set(body.get("properties", {}))
                required = set(body.get("required", []))
                self.assertEqual(set(ROUTES[name][2]), set(query), "query parameters")
                self.assertEqual(set(params), path_params | set(query) | props, "arguments vs the document's fields")
                for field in props:
                    has_default = params[field].default is not inspect.Parameter.empty
                    self.assertEqual(has_default, field not in required, "%s: required in the document iff required here" % field)


class Calls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = FacegateClient(URL, TOKEN)
        cls.photo = to_base64(FACE)

    def test_enrol_search_verify_and_check_the_signatures(self):
        c = self.client
        col = c.create_collection("Staff", description="py")
        person = c.create_person("Grace", images=[self.photo], collections=[col.data["_id"]])
        self.assertEqual(person.data["name"], "Grace")
        jwks = c.jwks()

        found = c.search_active_user(self.photo, "DESKTOP", 0.7, "FAST", collection_id=col.data["_id"])
        verify_answer(found, jwks, client=CLIENT_ID)

        verified = c.verify(person.data["_id"], [self.photo])
        claims = verify_answer(verified, jwks, client=CLIENT_ID)
        self.assertEqual(claims["route"], "POST /v2/face-recognition/verify")

        other = facegate.Answer(dict(verified), dict(verified.request, body=dict(verified.request["body"], min_score=0.2)))
        with self.assertRaises(SignatureError) as e:
            verify_answer(other, jwks)
        self.assertEqual(e.exception.reason, "request")
        with self.assertRaises(SignatureError):
            verify_answer(verified, jwks, client="someone-else")
        tampered = facegate.Answer(dict(verified, data=dict(verified.data, score=0.123)), verified.request)
        with self.assertRaises(SignatureError) as e:
            verify_answer(tampered, jwks)
        self.assertEqual(e.exception.reason, "data")

    def test_query_parameters_are_sent_and_signed(self):
        c = self.client
        c.create_person("Query Person", images=[self.photo])
        page = c.list_persons(name="Query Person", limit=5)
        self.assertEqual(page.request["path"], "/v2/face-recognition/persons?limit=5&name=Query+Person")
        self.assertEqual([p["name"] for p in page.data], ["Query Person"])
        verify_answer(page, c.jwks(), client=CLIENT_ID)


class Errors(unittest.TestCase):
    def test_refusals_carry_the_server_code_and_hint(self):
        c = FacegateClient(URL, TOKEN)
        with self.assertRaises(FacegateError) as e:
            c.get_person("0123456789abcdef01234567")
        self.assertEqual(e.exception.status, 404)
        self.assertTrue(e.exception.request_id)
        with self.assertRaises(FacegateError) as e:
            c.call("verify", body={"images": ["aGVsbG8="]})
        self.assertEqual((e.exception.status, e.exception.code), (409, "MissingParameter"))
        with self.assertRaises(FacegateError) as e:
            FacegateClient(URL, "fg_wrong").list_collections()
        self.assertEqual(e.exception.status, 401)
        self.assertTrue(e.exception.hint)


@unittest.skipUnless(LIMITED_URL, "needs the rate-limited server")
class Retries(unittest.TestCase):
    def test_429s_are_waited_out_as_the_server_asks(self):
        c = FacegateClient(LIMITED_URL, LIMITED_TOKEN, retries=4)
        for _ in range(5):
            c.list_collections()

    def test_with_retries_off_the_429_is_raised_with_its_retry_after(self):
        c = FacegateClient(LIMITED_URL, LIMITED_TOKEN, retries=0)
        err = None
        for _ in range(6):
            try:
                c.list_collections()
            except FacegateError as e:
                err = e
                break
        self.assertIsNotNone(err)
        self.assertEqual(err.status, 429)
        self.assertIsNotNone(err.retry_after)


if __name__ == "__main__":
    unittest.main()
