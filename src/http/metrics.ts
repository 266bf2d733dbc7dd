// Prometheus metrics on a registry of the app's own (several apps in one process, as in tests, do not collide).
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StageTotals } from '../face/stages.js';
import type { FaceEngine } from '../face/types.js';
import type { FaceIndex } from '../index/types.js';

/** Optional engine introspection: an engine that exposes its queue length gets a gauge. */
interface EngineStats {
  readonly queued?: number;
  readonly stageTotals?: StageTotals;
}

/** Optional index introspection (src/index/index.ts): search graphs still deferred or being built. */
interface IndexStats {
  readonly graphsPending?: boolean;
  readonly graphBuildProgress?: { done: number; total: number } | null;
}

export function installMetrics(app: FastifyInstance, opts: { engine: FaceEngine; index: FaceIndex }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'facegate_' });

  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'facegate_http_requests_total', help: 'HTTP requests answered', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'facegate_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'facegate_index_templates',
    help: 'Face templates held by the vector index',
    registers: [registry],
    collect() {
      this.set(opts.index.size());
    },
  });
  new Gauge({
    name: 'facegate_engine_ready',
    help: '1 when the face engine has loaded its models',
    registers: [registry],
    collect() {
      this.set(opts.engine.isReady() ? 1 : 0);
    },
  });
  const indexStats = opts.index as FaceIndex & IndexStats;
  if (typeof indexStats.graphsPending === 'boolean') {
    // After a start-up without graph snapshots FAST searches are exact (slower) until the graphs are built.
    new Gauge({
      name: 'facegate_index_graphs_pending',
      help: '1 while search graphs are deferred or being built (FAST searches are exact meanwhile)',
      registers: [registry],
      collect() {
        this.set(indexStats.graphsPending ? 1 : 0);
      },
    });
    new Gauge({
      name: 'facegate_index_graph_build_ratio',
      help: 'Share of persons inserted by the running search-graph build (1 when none runs)',
      registers: [registry],
      collect() {
        const p = indexStats.graphBuildProgress;
        this.set(p && p.total > 0 ? p.done / p.total : 1);
      },
    });
  }
  const stats = opts.engine as FaceEngine & EngineStats;
  if (typeof stats.queued === 'number') {
    new Gauge({
      name: 'facegate_engine_queue_depth',
      help: 'Analysis jobs waiting for a face engine worker',
      registers: [registry],
      collect() {
        this.set(stats.queued ?? 0);
      },
    });
  }

  const totals = stats.stageTotals;
  if (totals) {
    // Counters read at scrape time: rate(facegate_engine_stage_seconds_total[5m]) / rate(..._images_total[5m]) is
    // the time per image each stage costs (docs/face-engine.md, "Where the time goes").
    new Gauge({
      name: 'facegate_engine_stage_seconds_total',
      help: 'Seconds the face engine spent per pipeline stage, over every analysis (a counter)',
      labelNames: ['stage'],
      registers: [registry],
      collect() {
        for (const [stage, seconds] of Object.entries(totals.seconds)) this.set({ stage }, seconds);
      },
    });
    new Gauge({
      name: 'facegate_engine_images_total',
      help: 'Images the face engine analysed (a counter)',
      registers: [registry],
      collect() {
        this.set(totals.images);
      },
    });
  }

  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  return registry;
}
