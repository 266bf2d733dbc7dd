// Thin wrapper over usearch's HNSW index (chosen over hnswlib-node by measurement: docs/index.md).
// usearch's ESM build fails to load under plain Node (recursive getBuildDir), so the CJS build is required.
import { createRequire } from 'node:module';
import type * as UsearchModule from 'usearch';

const usearch = createRequire(import.meta.url)('usearch') as typeof UsearchModule;

export const { exactSearch, MetricKind, ScalarKind } = usearch;
export type UsearchIndex = InstanceType<typeof usearch.Index>;

export interface AnnConfig {
  dim: number;
  /** Graph degree M (level 0 keeps 2M links). */
  connectivity: number;
  /** Beam width while inserting. */
  expansionAdd: number;
  /** Beam width while searching (ef). */
  expansionSearch: number;
  /** Scalar type of the graph's own vector copy: i8 keeps it at dim bytes; the re-rank uses our float32 rows. */
  quantization: 'i8' | 'f16' | 'f32';
}

export function createGraph(cfg: AnnConfig): UsearchIndex {
  return new usearch.Index({
    dimensions: cfg.dim,
    metric: MetricKind.IP,
    quantization: cfg.quantization as UsearchModule.ScalarKind,
    connectivity: cfg.connectivity,
    expansion_add: cfg.expansionAdd,
    expansion_search: cfg.expansionSearch,
    multi: false,
  });
}
