// A minimal relying party (a shop's sign-up): its backend creates a Facegate liveness session with its client token
// (its policy: the steps, the score floor, how long the result stays usable, the page's origin), hands the browser
// only the session's capture credential, and enrols the person from the session once the component says it
// succeeded; Facegate checks the session's verdict, score, age and single use. Run: FACEGATE_URL=http://127.0.0.1:3000
// FACEGATE_TOKEN=fg_… node examples/relying-party/server.mjs, then open http://127.0.0.1:4000 (docs/liveness-sessions.md).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

export async function startRelyingParty({ facegate, token, port = 4000, host = '127.0.0.1', steps, maxAttempts }) {
  const origin = () => `http://${host}:${server.address().port}`;
  const api = async (path, body) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const r = await fetch(`${facegate}/v2/face-recognition${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { ok: r.ok, body: await r.json() };
  };
  const page = () => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign up – Example Shop</title>
<script type="module" src="${facegate}/capture/facegate-liveness.js"></script></head>
<body><main><h1>Sign up</h1><label>Your name <input id="name" value="Jane Doe"></label>
<facegate-liveness id="live" api="${facegate}"></facegate-liveness><p id="result" role="status"></p></main>
<script type="module">
const el = document.getElementById('live'), out = document.getElementById('result');
const post = (url, body) => fetch(url, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
const show = (result, text) => Object.assign(out, { textContent: text }).setAttribute('data-result', result);
const s = await post('/session', {});
el.credential = s.capture_token; // a property: the credential never sits in a URL
el.setAttribute('session', s.session_id);
el.addEventListener('failed', () => show('failed', 'The liveness check failed.'));
el.addEventListener('succeeded', async (e) => {
  const r = await post('/enrol', { session_id: e.detail.sessionId, name: document.getElementById('name').value });
  r.person ? show('enrolled', 'Welcome! Enrolled as ' + r.person) : show('refused', 'Not enrolled: ' + r.error);
});
</script></body></html>`;
  const server = createServer(async (req, res) => {
    const send = (code, type, text) => res.writeHead(code, { 'content-type': type }).end(text);
    if (req.method === 'GET' && req.url === '/') return send(200, 'text/html; charset=utf-8', page());
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const input = raw ? JSON.parse(raw) : {};
    const json = (r, pick) => send(r.ok ? 200 : 409, 'application/json', JSON.stringify(r.ok ? pick(r.body.data) : { error: r.body.message }));
    if (req.method === 'POST' && req.url === '/session') {
      const policy = { steps, max_attempts: maxAttempts, valid_for: 120, allowed_origin: origin() };
      const r = await api('/liveness/sessions', JSON.parse(JSON.stringify(policy))); // unset options: Facegate's defaults
      return json(r, (d) => ({ session_id: d.session_id, capture_token: d.capture_token }));
    }
    if (req.method === 'POST' && req.url === '/enrol') {
      // A real backend takes the session id from its own record of this visitor, not from the browser.
      const r = await api('/persons', { name: String(input.name), liveness_session_id: String(input.session_id) });
      return json(r, (d) => ({ person: d._id }));
    }
    send(404, 'text/plain', 'not found');
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { FACEGATE_URL = 'http://127.0.0.1:3000', FACEGATE_TOKEN, PORT = '4000' } = process.env;
  if (!FACEGATE_TOKEN) throw new Error('FACEGATE_TOKEN: a client token (npm run -s cli -- tokens create --client shop)');
  const server = await startRelyingParty({ facegate: FACEGATE_URL, token: FACEGATE_TOKEN, port: Number(PORT) });
  console.log(`relying party on http://127.0.0.1:${server.address().port}, Facegate at ${FACEGATE_URL}`);
}
