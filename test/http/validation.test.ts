import { describe, expect, it } from 'vitest';
import { fieldName, validationMessage } from '../../src/http/validation.js';
import { canonicalJson } from '../../src/http/canonical.js';
import { DATE_PATTERN } from '../../src/http/schemas.js';

describe('validation messages', () => {
  it('names nested fields the way clients write them', () => {
    expect(fieldName('/images/1')).toBe('images[1]');
    expect(fieldName('/biometricData', 'faceImage')).toBe('biometricData.faceImage');
    expect(fieldName('', 'os')).toBe('os');
    expect(fieldName('/a~1b/0/c')).toBe('a/b[0].c');
  });

  it('reads like Verifik (Joi) messages', () => {
    const m = (keyword: string, params: Record<string, unknown>, instancePath = '') => validationMessage([{ instancePath, keyword, params }]);
    expect(m('required', { missingProperty: 'os' })).toBe('"os" is required');
    expect(m('additionalProperties', { additionalProperty: 'foo' })).toBe('"foo" is not allowed');
    expect(m('type', { type: 'string' }, '/name')).toBe('"name" must be a string');
    expect(m('type', { type: ['string', 'null'] }, '/notes')).toBe('"notes" must be a string or null');
    expect(m('enum', { allowedValues: ['M', 'F'] }, '/gender')).toBe('"gender" must be one of [M, F]');
    expect(m('maximum', { limit: 100, comparison: '<=' }, '/limit')).toBe('"limit" must be less than or equal to 100');
    expect(m('minItems', { limit: 1 }, '/images')).toBe('"images" must contain at least 1 items');
    expect(m('minLength', { limit: 1 }, '/name')).toBe('"name" is not allowed to be empty');
    expect(m('format', { format: 'email' }, '/email')).toBe('"email" must be a valid email');
    expect(m('pattern', { pattern: 'x' }, '/phone')).toBe('"phone" has an invalid format');
    // A pattern registered with its meaning is named, for length errors too (a date too short).
    const withSchema = (keyword: string, params: Record<string, unknown>) =>
      validationMessage([{ instancePath: '/dob', keyword, params, parentSchema: { pattern: DATE_PATTERN.pattern } }]);
    expect(withSchema('pattern', { pattern: DATE_PATTERN.pattern })).toBe('"dob" must be a date in the format YYYY-MM-DD (e.g. 1990-01-15)');
    expect(withSchema('minLength', { limit: 10 })).toBe('"dob" must be a date in the format YYYY-MM-DD (e.g. 1990-01-15)');
    expect(validationMessage([{ instancePath: '', keyword: 'type', params: { type: 'object' } }], 'body')).toBe('"body" must be an object');
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'é' }], c: true }, u: undefined })).toBe(
      '{"a":{"c":true,"d":[3,{"y":"é","z":null}]},"b":1}',
    );
  });

  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow();
    expect(() => canonicalJson({ x: () => 1 })).toThrow();
  });
});
