// Calls to Facegate from the console: the same /v2 API as any client, authenticated by the session cookie (the
// browser sends it; the page never sees a token) plus the session's CSRF token on state-changing requests.
// Failures become ApiFailure with a sentence saying what went wrong and what to do.

let csrfToken: string | null = null;
let onSessionEnded: (reason: string) => void = () => {};

export function setCsrfToken(t: string | null): void {
  csrfToken = t;
}

export function whenSessionEnds(fn: (reason: string) => void): void {
  onSessionEnded = fn;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface Envelope<T> {
  id: string;
  data: T;
  pagination?: { page: number; limit: number; total: number; pages: number };
  warnings?: { field: string; message: string; faces_detected: number }[];
}

/** "images[1]" → "photo 2"; other fields are named as the API names them. */
function fieldWords(field?: string): string {
  if (!field) return 'the photo';
  const m = /^(images|probe|gallery)\[(\d+)\]$/.exec(field);
  if (m) return `${m[1] === 'gallery' ? 'second-side photo' : 'photo'} ${Number(m[2]) + 1}`;
  if (field === 'image' || field === 'biometricData.faceImage') return 'the photo';
  return `"${field}"`;
}

/** Turns a Facegate error answer into words an operator can act on. */
export function explain(status: number, body: { message?: string; code?: string; field?: string } | null, requestId?: string): string {
  const code = body?.code ?? '';
  const msg = body?.message ?? '';
  const what = fieldWords(body?.field);
  if (status === 401) return 'Your session has ended (signed out, or the token was revoked). Sign in again with a valid token.';
  if (status === 403 && msg === 'token_expired') return 'The token you signed in with has expired. Ask an administrator for a new token and sign in again.';
  if (status === 403 && msg.startsWith('csrf_check_failed')) return 'The page lost its session key. Reload the page and try again.';
  if (status === 403) return `Refused: ${msg}. Reload the console from the server's own address.`;
  if (code === 'NO_FACE') return `No face was found in ${what}. Use a sharp photo where the face is clearly visible and faces the camera.`;
  if (code === 'MULTIPLE_FACES') return `${cap(what)} holds more than one face. Crop it to one person, or pick another photo.`;
  if (status === 412) return `${cap(what)} could not be read as a photo. Use a JPEG, PNG or WebP image of at least 64 pixels.`;
  if (status === 413) return `${cap(what)} is too large. Use a smaller photo (a few megabytes, under 4000 pixels a side is plenty).`;
  if (status === 404 && msg.startsWith('collection_not_found')) return 'That collection no longer exists. Go back to Collections and pick another.';
  if (status === 404) return 'Not found: it may have just been deleted. Go back to the list and reload it.';
  if (status === 409 && msg.startsWith('409:duplicated_person')) return 'This person is already enrolled in the collection.';
  if (status === 409 && code === 'MissingParameter') return `The server refused a value: ${msg}. Correct it and try again.`;
  if (status === 409) return `Conflict: ${msg}.`;
  if (status === 503) return 'The face engine is busy with other requests. Wait a few seconds, then try again.';
  if (status >= 500) return `The server failed to answer${requestId ? ` (request id ${requestId})` : ''}. Try again; if it keeps failing, look for that id in the server log.`;
  return msg || `Unexpected answer (HTTP ${status}).`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export async function request<T>(method: string, url: string, body?: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, 'NETWORK', 'The server cannot be reached. Check that Facegate is running and your network is up, then try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const words = explain(res.status, json, res.headers.get('x-request-id') ?? undefined);
    const sessionGone = res.status === 401 || (res.status === 403 && json?.message === 'token_expired');
    if (sessionGone && !url.startsWith('/console/api/session')) onSessionEnded(words);
    throw new ApiFailure(res.status, json?.code ?? 'ERROR', words, json?.field);
  }
  return json as T;
}

export const api = {
  get: <T>(url: string, signal?: AbortSignal) => request<T>('GET', url, undefined, { signal }),
  post: <T>(url: string, body: unknown) => request<T>('POST', url, body),
  put: <T>(url: string, body: unknown) => request<T>('PUT', url, body),
  del: <T>(url: string) => request<T>('DELETE', url),
};

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- shapes of the answers the console reads

export interface SessionInfo {
  client: string;
  expiresAt: string;
  csrfToken: string;
}

export interface Collection {
  _id: string;
  code: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

/** An enrolled face, as Verifik's routes show it. */
export interface Thumbnail {
  id: string;
  thumbnail: string;
}

export interface FacePerson {
  _id: string;
  name: string;
  gender: 'M' | 'F' | null;
  date_of_birth: string | null;
  nationality: string | null;
  notes: string | null;
  thumbnails: Thumbnail[];
  collections: string[];
  createdAt: string;
  updatedAt: string;
}

export interface SearchHit {
  id: string;
  name: string;
  score: number;
  thumbnails: Thumbnail[];
}

export interface DetectedFace {
  /** Verifik's box: pixel edges. */
  box: { top: number; left: number; right: number; bottom: number };
  detection_score: number;
}

/** /detect's answer: the faces in `data`, the size of the image their boxes refer to beside it. */
export type Detection = Envelope<DetectedFace[]> & { image: { width: number; height: number } };

export interface PersonRecord {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  documentType: string | null;
  documentNumber: string | null;
  verificationStatus: 'pending' | 'verified' | 'failed' | 'expired';
  biometricData: { livenessScore?: number; faceEnrolled: boolean };
  createdAt: string;
}

export const thumbSrc = (b64: string) => `data:image/jpeg;base64,${b64}`;
