// Compare two photos 1:1 (nothing is stored).
import { useState } from 'preact/hooks';
import { api, type Envelope } from '../api';
import { base64Of, type Photo } from '../images';
import { ErrorBox, fmtScore, PhotoPicker, Progress } from '../ui';

export function ComparePage() {
  const [a, setA] = useState<Photo[]>([]);
  const [b, setB] = useState<Photo[]>([]);
  const [minScore, setMinScore] = useState(0.8);
  const [stage, setStage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ score: number; passed: boolean; min_score: number; warnings: string[] } | null>(null);
  return (
    <section aria-labelledby="compare-title">
      <h1 id="compare-title">Compare two photos</h1>
      <p class="lead">Are these the same person? The largest face of each photo is compared; nothing is stored.</p>
      <form
        class="card"
        aria-label="Photos to compare"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setResult(null);
          try {
            setStage('Reading the photos…');
            const [pa, pb] = await Promise.all([base64Of(a[0].file), base64Of(b[0].file)]);
            setStage('Comparing…');
            const res = await api.post<Envelope<{ score: number; passed: boolean; min_score: number }>>('/v2/face-recognition/compare', {
              probe: [pa],
              gallery: [pb],
              compare_min_score: minScore,
            });
            setResult({ ...res.data, warnings: (res.warnings ?? []).map((w) => `${w.field === 'gallery[0]' ? 'Second' : 'First'} photo: ${w.faces_detected} faces, the largest was used.`) });
          } catch (err) {
            setError(err);
          } finally {
            setStage(null);
          }
        }}
      >
        <div class="pair">
          <div>
            <h2>First photo</h2>
            <PhotoPicker label="Choose the first photo" photos={a} onChange={(p) => { setA(p); setResult(null); }} />
          </div>
          <div>
            <h2>Second photo</h2>
            <PhotoPicker label="Choose the second photo" photos={b} onChange={(p) => { setB(p); setResult(null); }} />
          </div>
        </div>
        <div class="field">
          <label for="compare-min">
            Pass at score: <output for="compare-min">{minScore.toFixed(2)}</output>
          </label>
          <input id="compare-min" type="range" min={0.5} max={1} step={0.01} value={minScore} onInput={(e) => setMinScore(Number((e.currentTarget as HTMLInputElement).value))} />
        </div>
        {stage ? <Progress label={stage} /> : <button type="submit" disabled={!a.length || !b.length}>Compare</button>}
      </form>
      {error !== null && <ErrorBox error={error} />}
      {result && (
        <div class={`verdict card ${result.passed ? 'pass' : 'fail'}`} role="status">
          <p class="big">{result.passed ? 'Same person' : 'Not the same person'}</p>
          <p>
            Score {fmtScore(result.score)} (passes at {result.min_score.toFixed(2)})
          </p>
          {result.warnings.map((w) => (
            <p class="muted small" key={w}>
              {w}
            </p>
          ))}
        </div>
      )}
    </section>
  );
}
