// Server status from /health and /metrics (Prometheus text, parsed here): readiness, engine queue, index size,
// and per-route request rates and latency over the last refresh interval. Persons per collection come from the
// API, so they are this tenant's own.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type Collection, type Envelope } from '../api';
import { ErrorBox, Progress } from '../ui';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

interface RouteStats {
  key: string;
  count: number;
  sum: number;
  buckets: Map<number, number>;
}

function routeStats(samples: Sample[]): Map<string, RouteStats> {
  const map = new Map<string, RouteStats>();
  const get = (l: Record<string, string>) => {
    const key = `${l.method} ${l.route}`;
    let r = map.get(key);
    if (!r) map.set(key, (r = { key, count: 0, sum: 0, buckets: new Map() }));
    return r;
  };
  for (const s of samples) {
    if (s.name === 'facegate_http_request_duration_seconds_count') get(s.labels).count += s.value;
    else if (s.name === 'facegate_http_request_duration_seconds_sum') get(s.labels).sum += s.value;
    else if (s.name === 'facegate_http_request_duration_seconds_bucket') {
      const r = get(s.labels);
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      r.buckets.set(le, (r.buckets.get(le) ?? 0) + s.value);
    }
  }
  return map;
}

/** The upper bound of the histogram bucket holding the 95th percentile. */
function p95(r: RouteStats): number {
  const target = r.count * 0.95;
  for (const [le, n] of [...r.buckets].sort((a, b) => a[0] - b[0])) if (n >= target) return le;
  return Infinity;
}

const value = (samples: Sample[], name: string) => samples.find((s) => s.name === name)?.value;

export function StatusPage() {
  const [health, setHealth] = useState<{ status: string; store: boolean; engine: boolean } | null>(null);
  const [now, setNow] = useState<{ at: number; samples: Sample[] } | null>(null);
  const prev = useRef<{ at: number; samples: Sample[] } | null>(null);
  const [counts, setCounts] = useState<{ name: string; persons: number }[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [metricsClosed, setMetricsClosed] = useState(false);

  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const h = await fetch('/health', { credentials: 'same-origin' });
        // /metrics spans every tenant: it answers only the operator's METRICS_TOKEN, never a console session.
        const m = await fetch('/metrics', { credentials: 'same-origin' });
        const closed = m.status === 401 || m.status === 404;
        if (!m.ok && !closed) throw new Error(`the metrics answered HTTP ${m.status}`);
        const samples = closed ? [] : parseMetrics(await m.text());
        if (!stop) setMetricsClosed(closed);
        if (stop) return;
        setHealth(await h.json());
        setNow((cur) => {
          prev.current = cur;
          return { at: Date.now(), samples };
        });
        setError(null);
      } catch (err) {
        if (!stop) setError(err instanceof TypeError ? new Error('The server cannot be reached. Check that Facegate is running') : err);
      }
    };
    void tick();
    const id = setInterval(tick, 5000);
    (async () => {
      try {
        const cols = await api.get<Envelope<Collection[]>>(`/v2/face-recognition/collections${query({ limit: 100 })}`);
        const rows = await Promise.all(
          cols.data.map(async (c) => ({ name: c.name, persons: (await api.get<Envelope<unknown[]>>(`/v2/face-recognition/persons${query({ collection: c._id, limit: 1 })}`)).pagination!.total })),
        );
        if (!stop) setCounts(rows);
      } catch (err) {
        if (!stop) setError(err);
      }
    })();
    return () => {
      stop = true;
      clearInterval(id);
    };
  }, []);

  if (!now && !error) return <Progress label="Reading the server's status…" />;
  const samples = now?.samples ?? [];
  const cur = routeStats(samples);
  const before = prev.current ? routeStats(prev.current.samples) : null;
  const secs = prev.current && now ? (now.at - prev.current.at) / 1000 : 0;
  const routes = [...cur.values()].filter((r) => r.count > 0).sort((a, b) => b.count - a.count).slice(0, 15);
  const queue = value(samples, 'facegate_engine_queue_depth');
  const templates = value(samples, 'facegate_index_templates');
  const rss = value(samples, 'facegate_process_resident_memory_bytes');

  return (
    <section aria-labelledby="status-title">
      <h1 id="status-title">Server status</h1>
      {error !== null && <ErrorBox error={error} />}
      {metricsClosed && (
        <p class="muted small" role="note">
          Server-wide figures (engine queue, index size, memory, requests by route) span every tenant, so they are kept for the operator's
          monitoring (<code>METRICS_TOKEN</code>), not shown here.
        </p>
      )}
      <ul class="stats" aria-label="Overview">
        <li class={`card ${health?.status === 'ok' ? 'pass' : 'fail'}`}>
          <span class="muted small">Health</span>
          <strong>{health ? (health.status === 'ok' ? 'Ready' : 'Not ready') : '…'}</strong>
          <span class="small">
            store {health?.store ? 'up' : 'down'}, engine {health?.engine ? 'loaded' : 'loading'}
          </span>
        </li>
        <li class="card">
          <span class="muted small">Engine queue</span>
          <strong>{queue ?? '—'}</strong>
          <span class="small">jobs waiting for a worker</span>
        </li>
        <li class="card">
          <span class="muted small">Search index</span>
          <strong>{templates ?? '—'}</strong>
          <span class="small">face templates, all tenants</span>
        </li>
        <li class="card">
          <span class="muted small">Memory</span>
          <strong>{rss ? `${Math.round(rss / 1048576)} MB` : '—'}</strong>
          <span class="small">resident</span>
        </li>
      </ul>
      <h2>Persons per collection</h2>
      {counts === null ? (
        <Progress label="Counting…" />
      ) : counts.length === 0 ? (
        <p class="muted">This tenant has no collections.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Persons per collection">
          <table>
            <thead>
              <tr>
                <th scope="col">Collection</th>
                <th scope="col" class="num">Persons</th>
              </tr>
            </thead>
            <tbody>
              {counts.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td class="num">{c.persons}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Requests by route</h2>
      <p class="muted small">Since the server started; the rate is over the last {secs ? `${Math.round(secs)} s` : 'refresh (every 5 s)'}.</p>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Requests by route">
        <table>
          <thead>
            <tr>
              <th scope="col">Route</th>
              <th scope="col" class="num">Requests</th>
              <th scope="col" class="num">Per second</th>
              <th scope="col" class="num">Mean</th>
              <th scope="col" class="num">p95 ≤</th>
            </tr>
          </thead>
          <tbody>
            {routes.map((r) => {
              const b = before?.get(r.key);
              const rate = b && secs ? (r.count - b.count) / secs : null;
              const p = p95(r);
              return (
                <tr key={r.key}>
                  <td>
                    <code>{r.key}</code>
                  </td>
                  <td class="num">{r.count}</td>
                  <td class="num">{rate === null ? '…' : rate.toFixed(2)}</td>
                  <td class="num">{((r.sum / r.count) * 1000).toFixed(1)} ms</td>
                  <td class="num">{p === Infinity ? '> 30 s' : `${p * 1000} ms`}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
