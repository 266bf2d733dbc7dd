// ANN graph snapshots. Only the graphs are saved (the slow part of a rebuild); templates, persons and
// collections are always rebuilt from the store, which stays the single source of truth. A snapshot is used only
// when the caller's store generation equals the one it was saved at, so its nodes match the store's templates.
//
// Layout: dir/manifest.json points at dir/gen-…/ holding, per tenant, N.usearch (the graph) and N.nodes.json
// (per graph key: the person id and the template ids its node was built from). The manifest is replaced by an atomic rename, so a crash mid-save leaves the
// previous snapshot or none, never a mix.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGraph, type UsearchIndex } from './ann.js';
import type { SnapshotNode } from './restore.js';
import { scrubFreeSlots } from './scrub.js';
import type { Tenant, TenantConfig } from './tenant.js';
import type { SnapshotInfo } from './types.js';

// 3: tenants carry the centre their graph was built with.
const FORMAT = 3;

interface Manifest {
  format: number;
  generation: string;
  dim: number;
  connectivity: number;
  quantization: string;
  folder: string;
  tenants: { client: string; graph: string; nodes: string; count: number; templates: number; centre: string | null }[];
}

export interface LoadedGraph {
  client: string;
  graph: UsearchIndex;
  nodes: SnapshotNode[];
  centre: Float32Array | null;
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function saveGraphs(dir: string, generation: string, cfg: TenantConfig, tenants: Map<string, Tenant>): SnapshotInfo {
  // Owner-only, like the database: the graphs hold int8 copies of the templates.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const folder = `gen-${generation.replace(/[^0-9A-Za-z_-]/g, '_')}-${Date.now()}`;
  const folderPath = path.join(dir, folder);
  mkdirSync(folderPath, { mode: 0o700 });
  const manifest: Manifest = {
    format: FORMAT,
    generation,
    dim: cfg.dim,
    connectivity: cfg.ann.connectivity,
    quantization: cfg.ann.quantization,
    folder,
    tenants: [],
  };
  let bytes = 0;
  let templates = 0;
  let scrubbed = 0;
  let i = 0;
  try {
    for (const [client, tenant] of tenants) {
      const snap = tenant.restore.graphForSnapshot();
      if (!snap) continue;
      const graphFile = `${i}.usearch`;
      const nodesFile = `${i}.nodes.json`;
      i++;
      snap.graph.save(path.join(folderPath, graphFile));
      // usearch writes removed nodes' vectors too: zero them, so an erased person never reaches disk.
      const slots = scrubFreeSlots(path.join(folderPath, graphFile));
      if (slots.slots - slots.scrubbed !== snap.nodes.length) {
        throw new Error(`snapshot of ${client}: ${slots.slots - slots.scrubbed} live graph slots, ${snap.nodes.length} live persons`);
      }
      scrubbed += slots.scrubbed;
      writeFileSync(path.join(folderPath, nodesFile), JSON.stringify(snap.nodes.map((n) => [n.key, n.person, n.templateIds])));
      for (const f of [graphFile, nodesFile]) {
        chmodSync(path.join(folderPath, f), 0o600);
        fsyncFile(path.join(folderPath, f));
        bytes += statSync(path.join(folderPath, f)).size;
      }
      const count = snap.nodes.length;
      const tenantTemplates = snap.nodes.reduce((n, node) => n + node.templateIds.length, 0);
      templates += tenantTemplates;
      manifest.tenants.push({
        client,
        graph: graphFile,
        nodes: nodesFile,
        count,
        templates: tenantTemplates,
        // The mean of all persons: not any one person's template.
        centre: snap.centre ? Buffer.from(snap.centre.buffer, snap.centre.byteOffset, snap.centre.byteLength).toString('base64') : null,
      });
    }
  } catch (err) {
    // A folder left half-written could hold an unscrubbed graph: it goes, and no snapshot is better than that.
    rmSync(folderPath, { recursive: true, force: true });
    throw err;
  }
  const tmp = path.join(dir, 'manifest.json.tmp');
  writeFileSync(tmp, JSON.stringify(manifest), { mode: 0o600 });
  fsyncFile(tmp);
  renameSync(tmp, path.join(dir, 'manifest.json'));
  removeFoldersExcept(dir, folder);
  return { generation, tenants: manifest.tenants.length, templates, bytes, scrubbed };
}

/** The snapshot's graphs, or null when there is none usable for this generation and these settings. */
export function loadGraphs(dir: string, generation: string, cfg: TenantConfig): LoadedGraph[] | null {
  const manifestPath = path.join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return null;
  }
  if (manifest.format !== FORMAT) return null;
  if (manifest.generation !== generation) {
    // The store has moved on; this snapshot can never be used again and still holds (quantised) templates of
    // persons that may since have been erased.
    rmSync(manifestPath, { force: true });
    removeFoldersExcept(dir, null);
    return null;
  }
  if (manifest.dim !== cfg.dim || manifest.connectivity !== cfg.ann.connectivity || manifest.quantization !== cfg.ann.quantization) {
    return null;
  }
  const folderPath = path.join(dir, manifest.folder);
  const out: LoadedGraph[] = [];
  try {
    for (const t of manifest.tenants) {
      const graph = createGraph(cfg.ann);
      graph.load(path.join(folderPath, t.graph));
      const raw = JSON.parse(readFileSync(path.join(folderPath, t.nodes), 'utf8')) as [number, string, number[]][];
      if (raw.length !== t.count || graph.dimensions() !== cfg.dim || graph.size() !== t.count) return null;
      const centre = t.centre ? new Float32Array(new Uint8Array(Buffer.from(t.centre, 'base64')).buffer) : null;
      if (centre && centre.length !== cfg.dim) return null;
      out.push({ client: t.client, graph, centre, nodes: raw.map(([key, person, templateIds]) => ({ key, person, templateIds })) });
    }
  } catch {
    return null;
  }
  return out;
}

function removeFoldersExcept(dir: string, keep: string | null): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('gen-') && name !== keep) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
