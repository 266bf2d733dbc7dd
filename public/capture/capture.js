// Facegate's capture page: runs one liveness session with the webcam. It creates the session (or reads the one
// named in the URL), prompts each step of the challenge, sends the camera's frames to the server a few at a time
// and shows the server's verdict. Everything it needs is served by Facegate itself (no CDN; works offline).
//
// Settings come from the URL fragment (never sent to the server or its logs):
//   /capture#token=TOKEN[&session=ID | &steps=turn_left,smile&max_attempts=3&min_score=0.6&expires_in=180][&fps=6]
// Without a token a small form asks for one. The token is the caller's API token: for a kiosk or a user's device
// issue a short-lived one (`npm run cli -- tokens create --client NAME --ttl 10m`).

const SESSIONS = '/v2/face-recognition/liveness/sessions';
const PROMPTS = {
  neutral: 'Look straight at the camera',
  turn_left: 'Turn your head to your left',
  turn_right: 'Turn your head to your right',
  look_up: 'Look up',
  look_down: 'Look down',
  smile: 'Smile',
  blink: 'Blink',
  done: 'Hold on…',
};
const LABELS = { turn_left: 'Turn left', turn_right: 'Turn right', look_up: 'Look up', look_down: 'Look down', smile: 'Smile', blink: 'Blink' };
/** The server judges the first frames of an attempt as the neutral pose: ask for it this long. */
const NEUTRAL_MS = 1200;
/** Frames per POST: small enough to keep the prompts close to what the server has seen. */
const BATCH = 3;
const MAX_PER_POST = 10;
/** The server wants timestamps at least 20 ms apart; a late timer can fire twice in a row. */
const MIN_GAP_MS = 50;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));

function api(token) {
  return async (method, path, body) => {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.message || `HTTP ${res.status}`);
    return json.data;
  };
}

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

function renderSteps(session) {
  const list = $('steps-list');
  list.replaceChildren();
  const current = session.results.findIndex((r) => !r.passed);
  session.results.forEach((r, i) => {
    const li = document.createElement('li');
    li.textContent = LABELS[r.step] ?? r.step;
    if (r.passed) li.className = 'passed';
    else if (i === current) li.className = 'current';
    list.append(li);
  });
}

function showVerdict(status, text) {
  const v = $('verdict');
  v.hidden = false;
  v.className = status;
  v.dataset.status = status;
  v.textContent = text;
  $('prompt').textContent = status === 'SUCCEEDED' ? 'Verified' : 'Not verified';
  $('stage').className = status;
  $('guide').classList.remove('ok');
}

function verdictText(s) {
  if (s.status === 'SUCCEEDED') return `Verified: a live person (score ${s.score?.toFixed(2)})`;
  if (s.status === 'EXPIRED') return 'Not verified: the session expired';
  return `Not verified: ${s.failure?.message ?? 'the challenge was not passed'}`;
}

async function run(token) {
  const call = api(token);
  let session;
  const existing = params.get('session');
  if (existing) {
    session = await call('GET', `${SESSIONS}/${encodeURIComponent(existing)}`);
  } else {
    const body = {};
    if (params.get('steps')) body.steps = params.get('steps').split(',').map((s) => s.trim()).filter(Boolean);
    for (const k of ['max_attempts', 'expires_in']) if (params.get(k)) body[k] = parseInt(params.get(k), 10);
    if (params.get('min_score')) body.min_score = Number(params.get('min_score'));
    session = await call('POST', SESSIONS, body);
  }
  document.body.dataset.session = session.session_id;
  renderSteps(session);
  if (!['CREATED', 'IN_PROGRESS'].includes(session.status)) return showVerdict(session.status, verdictText(session));

  const video = $('video');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  video.srcObject = stream;
  await video.play();

  const canvas = document.createElement('canvas');
  const fps = Math.min(15, Math.max(1, Number(params.get('fps')) || 6));
  const t0 = performance.now();
  let attemptStart = t0;
  let attemptsLeft = session.attempts_left;
  let queue = [];
  let sending = false;
  let finished = false;
  let sent = 0;
  let lastTs = -Infinity;

  const prompt = () => {
    if (finished) return;
    const next = session.results.find((r) => !r.passed);
    const key = performance.now() - attemptStart < NEUTRAL_MS ? 'neutral' : next ? next.step : 'done';
    $('prompt').textContent = PROMPTS[key] ?? key;
  };

  const finish = (status, text) => {
    finished = true;
    clearInterval(timer);
    clearInterval(prompter);
    // Keep the last frame on screen (a still, not the live camera) once the camera is off.
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    video.poster = canvas.toDataURL('image/jpeg', 0.8);
    video.srcObject = null;
    stream.getTracks().forEach((t) => t.stop());
    showVerdict(status, text);
  };

  const flush = async () => {
    // Frames leave in capture order: only the encoded ones at the head of the queue.
    let ready = 0;
    while (ready < queue.length && ready < MAX_PER_POST && queue[ready].blob) ready++;
    if (sending || finished || ready < BATCH) return;
    sending = true;
    const items = queue.splice(0, ready);
    try {
      const frames = await Promise.all(items.map(async (f) => ({ image: await blobToBase64(f.blob), timestamp_ms: f.ts })));
      session = await call('POST', `${SESSIONS}/${session.session_id}/frames`, { frames });
      sent += frames.length;
      $('progress').textContent = `${sent} frames sent`;
      renderSteps(session);
      if (session.status !== 'CREATED' && session.status !== 'IN_PROGRESS') return finish(session.status, verdictText(session));
      if (session.attempts_left < attemptsLeft) {
        // A failed attempt with budget left: the server dropped its frames; start the same challenge again.
        attemptsLeft = session.attempts_left;
        attemptStart = performance.now();
        queue = [];
        $('progress').textContent = `Try again: ${session.failure?.message ?? ''}`;
      }
      $('guide').classList.add('ok');
    } catch (e) {
      // Expired or finished meanwhile: the session itself says how it ended.
      const now = await call('GET', `${SESSIONS}/${session.session_id}`).catch(() => null);
      if (now && now.status !== 'CREATED' && now.status !== 'IN_PROGRESS') return finish(now.status, verdictText(now));
      return finish('ERROR', `Error: ${e.message}`);
    } finally {
      sending = false;
    }
    flush();
  };

  const grab = () => {
    if (finished || video.readyState < 2 || !video.videoWidth) return;
    // The camera's own frame, not the mirrored preview: the server reads left and right from it.
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    const ts = Math.round(performance.now() - t0);
    if (ts - lastTs < MIN_GAP_MS) return;
    lastTs = ts;
    const entry = { ts, blob: null };
    queue.push(entry);
    canvas.toBlob((blob) => {
      if (finished) return;
      if (!blob) {
        queue = queue.filter((e) => e !== entry);
      } else {
        entry.blob = blob;
      }
      flush();
    }, 'image/jpeg', 0.85);
  };
  const timer = setInterval(grab, 1000 / fps);
  const prompter = setInterval(prompt, 200);
  prompt();
}

function start(token) {
  run(token).catch((e) => showVerdict('ERROR', `Error: ${e.message}`));
}

const fromUrl = params.get('token');
if (fromUrl) {
  start(fromUrl);
} else {
  const form = $('setup');
  form.hidden = false;
  $('prompt').textContent = 'Enter an API token to start';
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if ($('steps').value.trim()) params.set('steps', $('steps').value.trim());
    form.hidden = true;
    start($('token').value.trim());
  });
}
