import { describe, expect, it } from 'vitest';
import { makeTestId, RUN_TAG_NAMES, runTagLabels, slugify, standardTags, STANDARD_TAG_NAMES, TESTID_PATTERN } from '../../lib/tags.ts';
import { parseCliArgs, type RunArgs } from '../../cli/args.ts';
import { k6Environment, runTags } from '../../cli/run-scenario.ts';

describe('testid and standard tags', () => {
  it('slugs a name to lowercase [a-z0-9_] of at most 20 characters', () => {
    expect(slugify('Black Friday 2026 — Shoes & Bags!')).toBe('black_friday_2026___');
    expect(slugify('Cache-Hit')).toBe('cache_hit');
  });

  it('builds the testid as slug, UTC date, UTC time and 8 hex digits', () => {
    const id = makeTestId('Soldes Été', new Date(Date.UTC(2026, 10, 27, 8, 5, 9)), '0a1b2c3d');
    expect(id).toBe('soldes__t__20261127_080509_0a1b2c3d');
    expect(id).toMatch(TESTID_PATTERN);
  });

  it('makes up a valid testid with a random suffix when none is given', () => {
    const a = makeTestId('ramp');
    expect(a).toMatch(TESTID_PATTERN);
    expect(a.slice(-8)).not.toBe(makeTestId('ramp').slice(-8));
  });

  it('reads the tags from the environment with documented defaults', () => {
    expect(standardTags('smoke', { TESTID: 'smoke_20260101_000000_deadbeef' })).toEqual({
      testid: 'smoke_20260101_000000_deadbeef',
      environment: 'preprod',
      promo_type: 'none',
      promo_name: 'none',
      intensity: 'light',
    });
    expect(standardTags('promo', { ENVIRONMENT: 'prod', PROMO_TYPE: 'manual_code', PROMO_NAME: 'Black Friday', INTENSITY: 'heavy' }))
      .toMatchObject({ environment: 'prod', promo_type: 'manual_code', promo_name: 'Black Friday', intensity: 'heavy', testid: expect.stringMatching(/^black_friday_/) });
  });

  it.each([
    ['INTENSITY', 'extreme', 'INTENSITY must be one of light, medium, heavy, not "extreme".'],
    ['ENVIRONMENT', 'staging', 'ENVIRONMENT must be one of prod, preprod, not "staging".'],
    ['PROMO_TYPE', 'bogo', 'PROMO_TYPE must be one of striked_price, auto_cart, manual_code, none, not "bogo".'],
    ['TESTID', 'my run', 'TESTID must look like <slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>, not "my run".'],
  ])('stops with one sentence when %s is %s', (name, value, message) => {
    expect(() => standardTags('smoke', { [name]: value })).toThrow(message);
  });

  it('has one list: the tags the CLI is given are the tags the scenarios read back', () => {
    const args = parseCliArgs(['promo', '--env', 'prod', '--promo-type', 'manual_code', '--promo-name', 'Black Friday', '--intensity', 'heavy']) as RunArgs;
    const testid = 'black_friday_20261127_080509_0a1b2c3d';
    const read = standardTags('promo', k6Environment(args, testid, 'http://127.0.0.1:1'));
    expect(read).toEqual({ testid, environment: 'prod', promo_type: 'manual_code', promo_name: 'Black Friday', intensity: 'heavy' });
    expect(Object.keys(read).sort()).toEqual([...STANDARD_TAG_NAMES].sort());
    expect(runTags(args)).toEqual(runTagLabels(read));
    expect(Object.keys(runTags(args)).sort()).toEqual([...RUN_TAG_NAMES].sort());
  });
});
