// The engine's template version and size, apart from the pipeline so the main thread can read them without
// loading TensorFlow.js (the models live in the workers only).

/** Stamped on every template; bump it whenever anything that changes embeddings changes. */
export const MODEL_VERSION = 'faceapi-resnet34@1+blazeface-align68-dlibchip@1';
export const EMBEDDING_DIM = 128;
