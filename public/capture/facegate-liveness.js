// <facegate-liveness>: Facegate's liveness capture as a web component, for a relying party's own page (any origin)
// and for Facegate's /capture page. It runs one liveness session with the camera: prompts each step of the challenge
// (text, an animated cue, progress per step), sends the camera's frames to Facegate a few at a time, and emits
// `succeeded` or `failed` with the session id. The relying party's backend creates the session with its client
// token and hands this component only the session's capture credential, which is good for that session's frames
// and nothing else (docs/liveness-sessions.md).
//
//   <script type="module" src="https://facegate.example/capture/facegate-liveness.js"></script>
//   <facegate-liveness session="SESSION_ID"></facegate-liveness>
//   el.credential = captureToken;  // a property, never a URL; el.start() or the Start button begins
//
// Attributes: `session` (id), `api` (Facegate's origin; default: where this module was loaded from), `fps` (1-15,
// default 6), `autostart` (start the camera without waiting for the Start button). The credential may also be
// given as the `credential` attribute; it is then moved into the element and the attribute removed at once.
// Events (bubbling, composed): `succeeded` / `failed` / `progress`, detail { sessionId, status, steps, failure }.

const SESSIONS = '/v2/face-recognition/liveness/sessions';
const PROMPTS = {
  neutral: 'Look straight at the camera',
  turn_left: 'Turn your head to your left',
  turn_right: 'Turn your head to your right',
  look_up: 'Look up',
  look_down: 'Look down',
  smile: 'Smile',
  blink: 'Blink',
  done: 'Hold still, checking…',
};
const LABELS = { turn_left: 'Turn left', turn_right: 'Turn right', look_up: 'Look up', look_down: 'Look down', smile: 'Smile', blink: 'Blink' };
/** A cue per prompt (the arrow points where the person's own head goes; the preview is a mirror). */
const CUES = { neutral: '◉', turn_left: '←', turn_right: '→', look_up: '↑', look_down: '↓', smile: '☺', blink: '◡', done: '…' };
/** The server judges the first frames of an attempt as the neutral pose: ask for it this long. */
const NEUTRAL_MS = 1200;
/** Frames per POST: small enough to keep the prompts close to what the server has seen. */
const BATCH = 3;
const MAX_PER_POST = 10;
/** The server wants timestamps at least 20 ms apart; a late timer can fire twice in a row. */
const MIN_GAP_MS = 50;
const OPEN = ['CREATED', 'IN_PROGRESS'];
const DEFAULT_API = new URL(import.meta.url).origin;

const STYLE = `
:host { display: block; font-family: system-ui, sans-serif; color: #1b1f24; max-width: 640px; }
[hidden] { display: none !important; }
.stage { position: relative; width: 100%; aspect-ratio: 4 / 3; background: #111; border-radius: 12px; overflow: hidden; }
video { width: 100%; height: 100%; object-fit: cover; transform: scaleX(-1); }
.guide { position: absolute; left: 50%; top: 46%; width: 42%; height: 70%; transform: translate(-50%, -50%);
  border: 4px dashed rgba(255, 255, 255, 0.85); border-radius: 50%; box-shadow: 0 0 0 2000px rgba(0, 0, 0, 0.35); }
.stage[data-status="SUCCEEDED"] .guide { border: 4px solid #3ddc84; }
.stage[data-status="FAILED"] .guide, .stage[data-status="EXPIRED"] .guide, .stage[data-status="ERROR"] .guide { border: 4px solid #ff6b6b; }
.cue { position: absolute; top: 0.5rem; left: 50%; transform: translateX(-50%); font-size: 2.6rem; line-height: 1; color: #fff;
  text-shadow: 0 1px 4px #000; }
.cue.turn_left { animation: left 1.2s ease-in-out infinite; }
.cue.turn_right { animation: right 1.2s ease-in-out infinite; }
.cue.look_up { animation: up 1.2s ease-in-out infinite; }
.cue.look_down { animation: down 1.2s ease-in-out infinite; }
@keyframes left { 50% { transform: translateX(calc(-50% - 24px)); } }
@keyframes right { 50% { transform: translateX(calc(-50% + 24px)); } }
@keyframes up { 50% { transform: translate(-50%, -14px); } }
@keyframes down { 50% { transform: translate(-50%, 14px); } }
@media (prefers-reduced-motion: reduce) { .cue { animation: none !important; } }
.prompt { position: absolute; left: 0; right: 0; bottom: 0; margin: 0; padding: 0.8rem; font-size: 1.3rem; font-weight: 600;
  text-align: center; color: #fff; background: rgba(0, 0, 0, 0.7); }
ol { display: flex; gap: 0.5rem; padding: 0; list-style: none; flex-wrap: wrap; margin: 0.8rem 0; }
li { padding: 0.3rem 0.7rem; border-radius: 999px; background: #e4e7eb; color: #1b1f24; }
li[data-state="current"] { background: #ffe08a; font-weight: 600; }
li[data-state="passed"] { background: #bff0d2; }
progress { width: 100%; height: 0.6rem; }
.verdict { padding: 0.8rem 1rem; border-radius: 8px; font-size: 1.1rem; font-weight: 600; margin: 0.5rem 0; }
.verdict[data-status="SUCCEEDED"] { background: #d4f7e2; color: #0b5d2a; }
.verdict:not([data-status="SUCCEEDED"]) { background: #fde2e1; color: #8a1c17; }
button { font: inherit; padding: 0.55rem 1.1rem; border-radius: 8px; border: 1px solid #1b4f9c; background: #1b4f9c; color: #fff; cursor: pointer; }
button:focus-visible { outline: 3px solid #ffb300; outline-offset: 2px; }
.note { color: #4a5159; font-size: 0.9rem; margin: 0.3rem 0; }
`;

const TEMPLATE = `
<div class="stage" part="stage">
  <video muted playsinline aria-label="Camera preview (mirrored)"></video>
  <div class="guide" aria-hidden="true"></div>
  <div class="cue" aria-hidden="true"></div>
  <p class="prompt" role="status" aria-live="polite">Press Start to begin the liveness check</p>
</div>
<ol aria-label="Challenge steps"></ol>
<label class="note"><span class="progress-label">Steps done</span> <progress max="1" value="0"></progress></label>
<p class="note frames" aria-live="off"></p>
<div class="verdict" role="alert" hidden></div>
<button type="button" class="start">Start</button>
<button type="button" class="retry" hidden>Try again</button>
`;

async function blobToBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class FacegateLiveness extends HTMLElement {
  #credential = null;
  #session = null;
  #run = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    // A constructed style sheet, not a <style> element: a page whose CSP forbids inline styles (Facegate's own
    // /capture page does) still styles the component.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
    root.innerHTML = TEMPLATE;
    const $ = (sel) => this.shadowRoot.querySelector(sel);
    this.ui = {
      stage: $('.stage'), video: $('video'), cue: $('.cue'), prompt: $('.prompt'), steps: $('ol'), progress: $('progress'), progressLabel: $('.progress-label'),
      frames: $('.frames'), verdict: $('.verdict'), start: $('.start'), retry: $('.retry'),
    };
    this.ui.start.addEventListener('click', () => this.start());
    this.ui.retry.addEventListener('click', () => this.#resume());
  }

  /** The session's capture credential (write-only: it is never reflected into the DOM). */
  set credential(value) {
    this.#credential = value ? String(value) : null;
  }
  get credential() {
    return this.#credential ? '(set)' : null;
  }

  get sessionId() {
    return this.getAttribute('session');
  }

  connectedCallback() {
    const fromAttr = this.getAttribute('credential');
    if (fromAttr) {
      this.#credential = fromAttr;
      this.removeAttribute('credential');
    }
    if (this.hasAttribute('autostart')) queueMicrotask(() => this.start());
  }

  disconnectedCallback() {
    this.#run?.stop();
  }

  static get observedAttributes() {
    return ['session'];
  }

  /** A new session (the relying party's answer to a failure): back to the Start button. */
  attributeChangedCallback(name, previous, value) {
    if (name !== 'session' || previous === null || previous === value) return;
    this.#run?.stop();
    this.#run = null;
    this.#session = null;
    this.ui.verdict.hidden = true;
    this.ui.retry.hidden = true;
    this.ui.start.hidden = false;
    delete this.ui.stage.dataset.status;
    this.ui.steps.replaceChildren();
    this.#prompt('neutral');
    this.ui.prompt.textContent = 'Press Start to begin the liveness check';
  }

  async #call(method, path, body) {
    const api = this.getAttribute('api') || DEFAULT_API;
    const res = await fetch(`${api}${path}`, {
      method,
      mode: 'cors',
      credentials: 'omit',
      headers: { authorization: `Bearer ${this.#credential}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new HttpError(res.status, json.message || `HTTP ${res.status}`);
    return json.data;
  }

  #emit(type) {
    const s = this.#session;
    const detail = { sessionId: s?.session_id ?? this.sessionId, status: s?.status, steps: s?.results ?? [], failure: s?.failure ?? null };
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #renderSteps() {
    const s = this.#session;
    const current = s.results.findIndex((r) => !r.passed);
    this.ui.steps.replaceChildren(
      ...s.results.map((r, i) => {
        const li = document.createElement('li');
        const state = r.passed ? 'passed' : i === current ? 'current' : 'pending';
        li.dataset.state = state;
        li.textContent = `${LABELS[r.step] ?? r.step}${r.passed ? ' ✓' : ''}`;
        li.setAttribute('aria-label', `${LABELS[r.step] ?? r.step}: ${state === 'passed' ? 'done' : state === 'current' ? 'now' : 'to do'}`);
        if (state === 'current') li.setAttribute('aria-current', 'step');
        return li;
      }),
    );
    // Steps the server has seen done: nothing is shown as done before the server says so.
    const passed = s.results.filter((r) => r.passed).length;
    this.ui.progress.max = s.results.length;
    this.ui.progress.value = passed;
    this.ui.progressLabel.textContent = `${passed} of ${s.results.length} steps done`;
  }

  #prompt(key) {
    this.ui.prompt.textContent = PROMPTS[key] ?? key;
    this.ui.cue.textContent = CUES[key] ?? '';
    this.ui.cue.className = `cue ${key}`;
  }

  #showVerdict(status, text) {
    this.ui.stage.dataset.status = status;
    this.ui.verdict.hidden = false;
    this.ui.verdict.dataset.status = status;
    this.ui.verdict.textContent = text;
    this.ui.prompt.textContent = status === 'SUCCEEDED' ? 'Verified' : 'Not verified';
    this.ui.cue.textContent = '';
    this.ui.cue.className = 'cue';
  }

  /** Starts the camera and the challenge (the Start button calls it). */
  async start() {
    if (this.#run) return;
    if (!this.sessionId || !this.#credential) {
      this.#showVerdict('ERROR', 'No liveness session: the page must give this component a session id and its capture credential.');
      return;
    }
    this.ui.start.hidden = true;
    this.ui.verdict.hidden = true;
    this.#prompt('neutral');
    try {
      this.#session = await this.#call('GET', `${SESSIONS}/${encodeURIComponent(this.sessionId)}`);
      this.#renderSteps();
      if (!OPEN.includes(this.#session.status)) return this.#finish();
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
      this.ui.video.srcObject = stream;
      await this.ui.video.play();
      this.#run = this.#capture(stream);
    } catch (e) {
      this.#showVerdict('ERROR', `Error: ${e.message}`);
      this.ui.start.hidden = false;
      this.#emit('failed');
    }
  }

  #resume() {
    this.ui.retry.hidden = true;
    this.ui.verdict.hidden = true;
    delete this.ui.stage.dataset.status;
    this.#run?.resume();
  }

  #finish(error) {
    const s = this.#session;
    this.#run?.stop();
    if (error) {
      this.#showVerdict('ERROR', `Error: ${error}`);
      return this.#emit('failed');
    }
    if (s.status === 'SUCCEEDED') {
      this.#showVerdict('SUCCEEDED', 'Verified: a live person');
      return this.#emit('succeeded');
    }
    const why = s.status === 'EXPIRED' ? 'the session expired' : (s.failure?.message ?? 'the challenge was not passed');
    this.#showVerdict(s.status, `Not verified: ${why}`);
    this.#emit('failed');
  }

  /** The capture loop: grabs frames at `fps`, posts them in capture order, follows the server's verdict. */
  #capture(stream) {
    const video = this.ui.video;
    const canvas = document.createElement('canvas');
    const fps = Math.min(15, Math.max(1, Number(this.getAttribute('fps')) || 6));
    const t0 = performance.now();
    let attemptStart = t0;
    let attemptsLeft = this.#session.attempts_left;
    let queue = [];
    let sending = false;
    let paused = false;
    let stopped = false;
    let sent = 0;
    let lastTs = -Infinity;
    const id = encodeURIComponent(this.#session.session_id);

    const prompt = () => {
      if (stopped || paused) return;
      const next = this.#session.results.find((r) => !r.passed);
      this.#prompt(performance.now() - attemptStart < NEUTRAL_MS ? 'neutral' : next ? next.step : 'done');
      this.#renderSteps();
    };

    const flush = async () => {
      // Frames leave in capture order: only the encoded ones at the head of the queue.
      let ready = 0;
      while (ready < queue.length && ready < MAX_PER_POST && queue[ready].blob) ready++;
      if (sending || stopped || paused || ready < BATCH) return;
      sending = true;
      const items = queue.splice(0, ready);
      try {
        const frames = await Promise.all(items.map(async (f) => ({ image: await blobToBase64(f.blob), timestamp_ms: f.ts })));
        this.#session = await this.#call('POST', `${SESSIONS}/${id}/frames`, { frames });
        sent += frames.length;
        this.ui.frames.textContent = `${sent} frames sent`;
        this.#renderSteps();
        this.#emit('progress');
        if (!OPEN.includes(this.#session.status)) return this.#finish();
        if (this.#session.attempts_left < attemptsLeft) {
          // A failed attempt with budget left: the server dropped its frames; the person starts again when ready.
          attemptsLeft = this.#session.attempts_left;
          paused = true;
          queue = [];
          this.#showVerdict('FAILED', `Not yet: ${this.#session.failure?.message ?? 'the challenge was not passed'}. ${attemptsLeft} attempt(s) left.`);
          this.ui.retry.hidden = false;
          this.ui.retry.focus();
        }
      } catch (e) {
        // Expired or finished meanwhile: the session itself says how it ended.
        const now = await this.#call('GET', `${SESSIONS}/${id}`).catch(() => null);
        if (now && !OPEN.includes(now.status)) {
          this.#session = now;
          return this.#finish();
        }
        return this.#finish(e.message);
      } finally {
        sending = false;
      }
      flush();
    };

    const grab = () => {
      if (stopped || paused || video.readyState < 2 || !video.videoWidth) return;
      // The camera's own frame, not the mirrored preview: the server reads left and right from it.
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d').drawImage(video, 0, 0);
      const ts = Math.round(performance.now() - t0);
      if (ts - lastTs < MIN_GAP_MS) return;
      lastTs = ts;
      const entry = { ts, blob: null };
      queue.push(entry);
      canvas.toBlob(
        (blob) => {
          if (stopped) return;
          if (!blob) queue = queue.filter((e) => e !== entry);
          else entry.blob = blob;
          flush();
        },
        'image/jpeg',
        0.85,
      );
    };
    const timer = setInterval(grab, 1000 / fps);
    const prompter = setInterval(prompt, 200);
    prompt();

    return {
      resume: () => {
        paused = false;
        attemptStart = performance.now();
        prompt();
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        clearInterval(prompter);
        // Keep the last frame on screen (a still, not the live camera) once the camera is off.
        if (video.videoWidth) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          canvas.getContext('2d').drawImage(video, 0, 0);
          video.poster = canvas.toDataURL('image/jpeg', 0.8);
        }
        video.srcObject = null;
        stream.getTracks().forEach((t) => t.stop());
      },
    };
  }
}

if (!customElements.get('facegate-liveness')) customElements.define('facegate-liveness', FacegateLiveness);
