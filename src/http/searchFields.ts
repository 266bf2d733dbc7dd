// Schema pieces shared by the search, comparison, liveness and detect routes (they also make the OpenAPI document).
import { Type } from '@sinclair/typebox';
import type { Os as OsValue } from '../domain/search.js';
import type { OperatingPoint } from '../domain/thresholds.js';
import { errorResponses } from './schemas.js';

export const Score = (description: string, extra: { default?: number; minimum?: number; maximum?: number } = {}) =>
  Type.Number({ minimum: 0.5, maximum: 1, description, ...extra });
export const SearchMode = Type.Unsafe<'FAST' | 'ACCURATE'>({
  type: 'string',
  enum: ['FAST', 'ACCURATE'],
  description: 'FAST: approximate nearest neighbours with an exact re-rank; ACCURATE: exact scan of every template.',
});
export const Os = Type.Unsafe<OsValue>({ type: 'string', enum: ['ANDROID', 'IOS', 'DESKTOP'] });
export const CollectionId = Type.String({ minLength: 1, maxLength: 128, description: 'Collection `_id` or `code`.', examples: ['6650c0f1a2b3c4d5e6f70812'] });

/** How a default threshold is documented in the OpenAPI document: its value and what it was chosen for. */
export const thresholdNote = (p: OperatingPoint) => `${p.minScore}, chosen for ${p.target} (docs/calibration.md)`;

export const tags = ['Search'];
/** Photos analysed, nothing looked up: compare, liveness. */
export const ANALYSIS_FAILURES = errorResponses('auth', 'input', 'body', 'images', 'faces', 'engine');
/** Plus a collection or person looked up (404). */
export const SEARCH_FAILURES = errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine');
