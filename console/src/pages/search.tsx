// Search by photo: every face the engine finds is boxed and searched on its own; candidates are shown side by side
// with their enrolled thumbnails and scores. Candidates are fetched down to the API's lowest threshold (0.5) so
// moving the min_score slider shows at once which would pass; the mode is re-run on demand to compare timings.
import { useEffect, useState } from 'preact/hooks';
import { api, query, thumbSrc, type Collection, type DetectedFace, type Detection, type Envelope, type SearchHit } from '../api';
import { base64Of, cropFace, release, type Photo } from '../images';
import { Empty, ErrorBox, fmtScore, PhotoPicker, Progress, useLoad } from '../ui';

/** A box as x, y, width, height (what the crop and the drawing need). */
function rect(b: DetectedFace['box']) {
  return { x: b.left, y: b.top, width: b.right - b.left, height: b.bottom - b.top };
}

interface FaceResult {
  face: DetectedFace;
  crop: string;
  hits: SearchHit[];
  ms: number;
}

export function SearchPage() {
  const [cols] = useLoad((signal) => api.get<Envelope<Collection[]>>(`/v2/face-recognition/collections${query({ limit: 100 })}`, signal).then((r) => r.data), []);
  const [photo, setPhoto] = useState<Photo[]>([]);
  const [collection, setCollection] = useState('');
  const [minScore, setMinScore] = useState(0.8);
  const [mode, setMode] = useState<'ACCURATE' | 'FAST'>('ACCURATE');
  const [stage, setStage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ width: number; height: number; faces: FaceResult[]; mode: string } | null>(null);
  useEffect(() => () => release(photo), [photo]);

  const run = async () => {
    const p = photo[0];
    if (!p) return;
    setError(null);
    setResult(null);
    try {
      setStage('Reading the photo…');
      const image = await base64Of(p.file);
      setStage('Finding faces…');
      const det = await api.post<Detection>('/v2/face-recognition/detect', { image });
      const faces = det.data.slice(0, 6);
      const out: FaceResult[] = [];
      for (let i = 0; i < faces.length; i++) {
        setStage(faces.length === 1 ? 'Searching…' : `Searching face ${i + 1} of ${faces.length}…`);
        const crop = await cropFace(p, rect(faces[i].box));
        const t0 = performance.now();
        const res = await api.post<Envelope<SearchHit[]>>('/v2/face-recognition/search', {
          images: [faces.length === 1 ? image : crop],
          min_score: 0.5,
          search_mode: mode,
          max_results: 5,
          ...(collection ? { collection_id: collection } : {}),
        });
        out.push({ face: faces[i], crop, hits: res.data, ms: Math.round(performance.now() - t0) });
      }
      setResult({ width: det.image.width, height: det.image.height, faces: out, mode });
    } catch (err) {
      setError(err);
    } finally {
      setStage(null);
    }
  };

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search by photo</h1>
      <p class="lead">Find who a photo shows. Each face in it is searched on its own.</p>
      <form
        class="card"
        aria-label="Search settings"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <PhotoPicker label="Choose a photo" photos={photo} onChange={(p) => { setPhoto(p); setResult(null); }} />
        <div class="form-grid">
          <div class="field">
            <label for="search-collection">Look in</label>
            <select id="search-collection" value={collection} onChange={(e) => setCollection((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">All collections</option>
              {cols.state === 'ok' && cols.data.map((c) => <option key={c._id} value={c._id}>{c.name}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="search-mode">Mode</label>
            <select id="search-mode" value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as 'ACCURATE' | 'FAST')} aria-describedby="mode-help">
              <option value="ACCURATE">ACCURATE</option>
              <option value="FAST">FAST</option>
            </select>
          </div>
          <div class="field wide">
            <label for="search-min">
              Minimum score: <output for="search-min">{minScore.toFixed(2)}</output>
            </label>
            <input id="search-min" type="range" min={0.5} max={1} step={0.01} value={minScore} onInput={(e) => setMinScore(Number((e.currentTarget as HTMLInputElement).value))} aria-describedby="min-help" />
          </div>
        </div>
        <p id="min-help" class="muted small">
          Minimum score: how alike a candidate must be to count as a match. Higher means fewer wrong matches and more missed ones; 0.8 is the recommended setting
          (see docs/calibration.md). Moving it re-marks the candidates below without searching again.
        </p>
        <p id="mode-help" class="muted small">
          ACCURATE compares the photo with every enrolled face. FAST walks an approximate index: the same scores, much quicker on collections of tens of thousands, and it
          may miss a rare candidate.
        </p>
        {stage ? <Progress label={stage} /> : <button type="submit" disabled={!photo.length}>Search</button>}
      </form>
      {error !== null && <ErrorBox error={error} onRetry={run} />}
      {result && photo[0] && (
        <div class="search-result">
          <figure class="boxed">
            <div class="boxed-inner">
              <img src={photo[0].url} alt={`The searched photo, ${result.faces.length} ${result.faces.length === 1 ? 'face' : 'faces'} found`} />
              <svg viewBox={`0 0 ${result.width} ${result.height}`} preserveAspectRatio="none" aria-hidden="true">
                {result.faces.map((f, i) => {
                  const b = rect(f.face.box);
                  return (
                    <g key={i}>
                      <rect x={b.x} y={b.y} width={b.width} height={b.height} />
                      <text x={b.x + 4} y={Math.max(result.width / 22, b.y - 8)} font-size={Math.max(16, result.width / 22)}>
                        {i + 1}
                      </text>
                    </g>
                  );
                })}
              </svg>
            </div>
            <figcaption class="muted">
              {result.faces.length === 0 ? 'No face found in this photo.' : `${result.faces.length} ${result.faces.length === 1 ? 'face' : 'faces'} found · ${result.mode}`}
            </figcaption>
          </figure>
          {result.faces.length === 0 && (
            <Empty title="No face was found in this photo.">
              <p>Use a sharper photo where faces are at least 60 pixels wide and turned towards the camera.</p>
            </Empty>
          )}
          <ol class="face-results" aria-label="Candidates per face">
            {result.faces.map((f, i) => {
              const passing = f.hits.filter((h) => h.score >= minScore);
              return (
                <li key={i} class="card">
                  <div class="probe">
                    <img src={thumbSrc(f.crop)} alt={`Face ${i + 1} of the photo`} />
                    <div>
                      <h2>Face {i + 1}</h2>
                      <p class="muted small">
                        {passing.length} {passing.length === 1 ? 'match' : 'matches'} at ≥ {minScore.toFixed(2)} · {f.ms} ms
                      </p>
                    </div>
                  </div>
                  {f.hits.length === 0 ? (
                    <p class="muted">Nobody enrolled scores 0.5 or more against this face.</p>
                  ) : (
                    <ul class="candidates">
                      {f.hits.map((h) => (
                        <li key={h.id} class={h.score >= minScore ? 'match' : 'below'}>
                          {h.thumbnails[0] && <img src={thumbSrc(h.thumbnails[0].thumbnail)} alt="" width={72} height={72} />}
                          <div>
                            <a href={`#/persons/${h.id}`}>{h.name}</a>
                            <div class="score">
                              <meter min={0.5} max={1} value={h.score} aria-label={`Score of ${h.name}`} />
                              <span>{fmtScore(h.score)}</span>
                            </div>
                            <span class="small">{h.score >= minScore ? 'Match' : 'Below the minimum score'}</span>
                          </div>
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ol>
        </div>
      )}
    </section>
  );
}
