// One TensorFlow.js runtime per thread: the WASM backend with SIMD, and model loading from node_modules.
// tfjs-node cannot be installed here (its install step downloads libtensorflow), and Node's fetch cannot read
// file:// URLs, so model files are read through a small file-system IO handler.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';

const require = createRequire(import.meta.url);
export { packageFile } from './packages.js';

let initialised: Promise<void> | undefined;

/** Selects the WASM backend (SIMD, one thread: parallelism comes from worker threads). Idempotent. */
export function initTf(backend: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  initialised ??= (async () => {
    if (backend === 'wasm') {
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      setWasmPaths(path.join(dir, 'dist') + path.sep);
    }
    await tf.setBackend(backend);
    await tf.ready();
  })();
  return initialised;
}

/** tfjs IOHandler that reads a model.json and its weight shards from the local file system. */
export function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(await readFile(modelJsonPath, 'utf8'));
      const dir = path.dirname(modelJsonPath);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await readFile(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

/** Loads a converted graph model (model.json + .bin shards) from disk. */
export function loadGraph(modelJsonPath: string): Promise<GraphModel> {
  return loadGraphModel(fileHandler(modelJsonPath));
}

export { tf };
