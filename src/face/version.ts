// The engine's template version and size, apart from the pipeline so the main thread can read them without
// loading the models (they live in the workers only).

/**
 * Stamped on every template; bump it whenever anything that changes templates changes. Templates of another
 * version are never compared with this version's: `npm run cli -- reindex` re-embeds them from the stored faces.
 */
export const MODEL_VERSION = 'faceplugin-arcface512@1+blazeface-lm68-arcface5pt-flip@1';
export const EMBEDDING_DIM = 512;

/** Versions written by earlier releases (for messages and the upgrade path). */
export const PREVIOUS_MODEL_VERSIONS = ['faceapi-resnet34@1+blazeface-align68-dlibchip@1'] as const;
