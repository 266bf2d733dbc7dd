// The search benchmark's templates must have the genuine/impostor cosine distributions they were fitted to:
// recall figures on easier data would flatter the index.
import { describe, expect, it } from 'vitest';
import { fitTemplateModel, measureDistributions, PROFILES } from './fitted-templates.js';

describe('templates fitted to a face model', () => {
  for (const [profile, dim] of [['arcface512', 512], ['resnet128', 128]] as const) {
    it(`match the ${profile} profile's genuine and impostor distributions at ${dim}-d`, () => {
      const targets = PROFILES[profile];
      const model = fitTemplateModel(dim, targets);
      // Measured on pairs from a seed the fit never saw.
      const { genuine, impostor } = measureDistributions(model, 3000, 4242);
      expect(Math.abs(genuine.mean - targets.genuine.mean)).toBeLessThan(0.01);
      expect(Math.abs(impostor.mean - targets.impostor.mean)).toBeLessThan(0.01);
      expect(genuine.sd / targets.genuine.sd).toBeGreaterThan(0.9);
      expect(genuine.sd / targets.genuine.sd).toBeLessThan(1.1);
      expect(impostor.sd / targets.impostor.sd).toBeGreaterThan(0.9);
      expect(impostor.sd / targets.impostor.sd).toBeLessThan(1.1);
    });
  }

  it('takes other targets as parameters', () => {
    const targets = { genuine: { mean: 0.7, sd: 0.1 }, impostor: { mean: 0.05, sd: 0.06 } };
    const { impostor, genuine } = measureDistributions(fitTemplateModel(256, targets), 3000, 7);
    expect(Math.abs(genuine.mean - 0.7)).toBeLessThan(0.015);
    expect(Math.abs(impostor.mean - 0.05)).toBeLessThan(0.015);
    expect(impostor.sd).toBeGreaterThan(0.05);
    expect(impostor.sd).toBeLessThan(0.07);
    expect(() => fitTemplateModel(256, { genuine: { mean: 0.3, sd: 0.1 }, impostor: { mean: 0.4, sd: 0.1 } })).toThrow(/below the genuine mean/);
  });
});
