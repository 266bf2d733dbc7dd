// Liveness check of an uploaded photo (passive: one frame). The guided capture flow, when this server has it,
// lives at /capture and is linked from here.
import { useEffect, useState } from 'preact/hooks';
import { api, type Envelope } from '../api';
import { base64Of, type Photo } from '../images';
import { ErrorBox, fmtScore, PhotoPicker, Progress } from '../ui';

interface Liveness {
  liveness_score: number;
  min_score: number;
  passed: boolean;
  /** Only when the server runs with LIVENESS_DETAILS=true. */
  signals?: Record<string, number>;
}

export function LivenessPage() {
  const [photo, setPhoto] = useState<Photo[]>([]);
  const [minScore, setMinScore] = useState(0.6);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<Liveness | null>(null);
  const [capture, setCapture] = useState(false);
  useEffect(() => {
    fetch('/capture', { method: 'HEAD', credentials: 'same-origin' }).then((r) => setCapture(r.ok), () => setCapture(false));
  }, []);
  return (
    <section aria-labelledby="liveness-title">
      <h1 id="liveness-title">Liveness check</h1>
      <p class="lead">Is this a live person in front of the camera, or a printed photo, a screen or a mask?</p>
      {capture && (
        <p class="notice">
          For a guided check with the camera, use the <a href="/capture">liveness capture page</a>.
        </p>
      )}
      <form
        class="card"
        aria-label="Photo to check"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          setResult(null);
          try {
            const image = await base64Of(photo[0].file);
            const res = await api.post<Envelope<Liveness>>('/v2/face-recognition/liveness', { os: 'DESKTOP', image, liveness_min_score: minScore });
            setResult(res.data);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <PhotoPicker label="Choose a photo" photos={photo} onChange={(p) => { setPhoto(p); setResult(null); }} hint="a selfie taken straight from the camera works best; or drop it here" />
        <div class="field">
          <label for="liveness-min">
            Pass at score: <output for="liveness-min">{minScore.toFixed(2)}</output>
          </label>
          <input id="liveness-min" type="range" min={0.5} max={1} step={0.01} value={minScore} onInput={(e) => setMinScore(Number((e.currentTarget as HTMLInputElement).value))} />
        </div>
        {busy ? <Progress label="Checking liveness…" /> : <button type="submit" disabled={!photo.length}>Check</button>}
      </form>
      {error !== null && <ErrorBox error={error} />}
      {result && (
        <div class={`verdict card ${result.passed ? 'pass' : 'fail'}`} role="status">
          <p class="big">{result.passed ? 'Live' : 'Not shown to be live'}</p>
          <p>
            Liveness score {fmtScore(result.liveness_score)} (passes at {result.min_score.toFixed(2)})
          </p>
          {result.signals && (
            <details>
              <summary>Signals</summary>
              <dl class="fields">
                {Object.entries(result.signals).map(([k, v]) => (
                  <>
                    <dt>{k}</dt>
                    <dd>{fmtScore(v)}</dd>
                  </>
                ))}
              </dl>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
