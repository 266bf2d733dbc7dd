// Facegate's /capture page: a thin page around <facegate-liveness> (./facegate-liveness.js). The session id and its
// capture credential arrive in the URL fragment (`#session=ID&credential=fgls_…[&fps=6]`), which browsers never send
// to a server; the page takes them and removes the fragment from the address bar and the history at once, so the
// credential does not stay behind. The credential is good for this one session's frames and nothing else.
const params = new URLSearchParams(location.hash.slice(1));
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

const el = document.getElementById('liveness');
const session = params.get('session');
const credential = params.get('credential');
if (session && credential) {
  if (params.get('fps')) el.setAttribute('fps', params.get('fps'));
  el.credential = credential;
  el.setAttribute('session', session);
  document.body.dataset.session = session;
  el.addEventListener('succeeded', () => (document.body.dataset.status = 'SUCCEEDED'));
  el.addEventListener('failed', (ev) => (document.body.dataset.status = ev.detail.status ?? 'ERROR'));
} else {
  document.getElementById('help').hidden = false;
}
