import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration, parseSize } from '../../src/config.js';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.logLevel).toBe('info');
    expect(c.bodyLimit).toBe(25 * 1024 * 1024);
    expect(c.apiToken).toBeNull();
    expect(c.apiTokenClient).toBe('default');
    expect(c.engineWorkers).toBeGreaterThanOrEqual(1);
    expect(c.personVerificationTtlMs).toBe(365 * 86_400_000);
    expect(c.livenessMinScore).toBe(0.6);
    expect(c.maxImages).toBe(5);
    expect(c.maxImageBytes).toBe(10 * 1024 * 1024);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/x',
      LOG_LEVEL: 'debug',
      BODY_LIMIT: '2mb',
      API_TOKEN: 'a-long-enough-secret-123',
      ENGINE_WORKERS: '3',
      ENGINE_QUEUE: '10',
      ENGINE_THREADS: '2',
      PERSON_VERIFICATION_TTL: '12h',
      LIVENESS_MIN_SCORE: '0.75',
      MAX_IMAGES: '3',
      MAX_IMAGE_BYTES: '512kb',
    });
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/tmp/x',
      logLevel: 'debug',
      bodyLimit: 2 * 1024 * 1024,
      apiToken: 'a-long-enough-secret-123',
      engineWorkers: 3,
      engineQueue: 10,
      engineThreads: 2,
      personVerificationTtlMs: 12 * 3_600_000,
      livenessMinScore: 0.75,
      maxImages: 3,
      maxImageBytes: 512 * 1024,
    });
  });

  it('fails fast, naming every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', BODY_LIMIT: 'huge', PERSON_VERIFICATION_TTL: 'forever', API_TOKEN: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['PORT', 'LOG_LEVEL', 'BODY_LIMIT', 'PERSON_VERIFICATION_TTL', 'API_TOKEN']) expect(msg).toContain(name);
  });

  it('reads the liveness-session floors: the server\'s and stricter ones per tenant; a malformed one names the variable', () => {
    expect(loadConfig({})).toMatchObject({ livenessSessionMinScore: 0.02, livenessSessionMinSteps: 2, livenessSessionTenantFloors: {} });
    const c = loadConfig({
      LIVENESS_SESSION_MIN_SCORE: '0.4',
      LIVENESS_SESSION_MIN_STEPS: '3',
      LIVENESS_SESSION_TENANT_FLOORS: '{"bank": {"min_score": 0.6, "min_steps": 4}, "gym": {"min_steps": 3}}',
    });
    expect(c).toMatchObject({ livenessSessionMinScore: 0.4, livenessSessionMinSteps: 3, livenessSessionTenantFloors: { bank: { minScore: 0.6, minSteps: 4 }, gym: { minSteps: 3 } } });
    for (const bad of ['{"bank": {"min_score": 2}}', '{"bank": {"minimum": 1}}', '[1]', 'bank:0.6']) {
      expect(() => loadConfig({ LIVENESS_SESSION_TENANT_FLOORS: bad }), bad).toThrow(/LIVENESS_SESSION_TENANT_FLOORS/);
    }
    expect(() => loadConfig({ LIVENESS_SESSION_MIN_STEPS: '0' })).toThrow(/LIVENESS_SESSION_MIN_STEPS/);
  });

  it('reads the fair-sharing, rate-limit, enrolment and audit settings, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      engineQueuePerClient: 32,
      rateLimitMax: 600,
      rateLimitWindowMs: 60_000,
      samePersonMinScore: 0.5,
      auditRetentionDays: 365,
    });
    expect(loadConfig({ ENGINE_QUEUE: '9' }).engineQueuePerClient).toBe(5);
    expect(
      loadConfig({ ENGINE_QUEUE_PER_CLIENT: '4', RATE_LIMIT_MAX: '0', RATE_LIMIT_WINDOW: '10s', SAME_PERSON_MIN_SCORE: '0.9', AUDIT_RETENTION_DAYS: '30' }),
    ).toMatchObject({ engineQueuePerClient: 4, rateLimitMax: 0, rateLimitWindowMs: 10_000, samePersonMinScore: 0.9, auditRetentionDays: 30 });
    let err: unknown;
    try {
      loadConfig({ ENGINE_QUEUE_PER_CLIENT: '0', RATE_LIMIT_MAX: '-1', RATE_LIMIT_WINDOW: '100ms', SAME_PERSON_MIN_SCORE: '0.2', AUDIT_RETENTION_DAYS: '0' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['ENGINE_QUEUE_PER_CLIENT', 'RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW', 'SAME_PERSON_MIN_SCORE', 'AUDIT_RETENTION_DAYS']) {
      expect((err as Error).message).toContain(name);
    }
  });

  it('parses sizes and durations', () => {
    expect(parseSize('25mb')).toBe(26_214_400);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('1.5kb')).toBe(1536);
    expect(parseSize('lots')).toBeNull();
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1y')).toBeNull();
  });
  it('TRUST_PROXY trusts a number of proxy hops or named proxies, never every X-Forwarded-For entry', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    // "true" is the usual single proxy: the caller's own X-Forwarded-For entries are not believed.
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    for (const bad of ['11', 'all', '10.0.0.0/33', 'nginx']) expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
  });

  it('METRICS_TOKEN: off by default, at least 16 characters', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken).toBe('scrape-token-0123456789');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
