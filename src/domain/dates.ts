import { InvalidFieldError } from './errors.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A birth date as `YYYY-MM-DD`. Accepts the date alone or an ISO 8601 date-time (Verifik answers some routes with
 * `1990-01-15T00:00:00.000Z`); the time part is dropped, not converted, so no time zone can move the day.
 */
export function normaliseBirthDate(value: string, field: string, now: Date = new Date()): string {
  const m = DATE_RE.exec(value.trim());
  if (!m) throw new InvalidFieldError(field, `"${field}" must be a date in the format YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw new InvalidFieldError(field, `"${field}" must be a valid date`);
  }
  if (y < 1900 || date.getTime() > now.getTime()) {
    throw new InvalidFieldError(field, `"${field}" must be a date between 1900-01-01 and today`);
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}
