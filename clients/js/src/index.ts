// @facegate/client: a typed client for a Facegate server (Node.js 18+, fetch-based, one dependency: jose).
export { FacegateClient, type ClientOptions } from './client.js';
export { FacegateError, FacegateProtocolError, SignatureError, type ErrorBody } from './errors.js';
export { type Answer, type SentRequest, type Signature } from './http.js';
export { fileToBase64, fromDataUrl, toBase64, type ImageInput } from './images.js';
export { ROUTES, type AnswerOf, type BodyOf, type DataOf, type QueryOf, type RouteName } from './routes.js';
export { verifyAnswer, type VerifyOptions, type VerifiedClaims } from './verify.js';
