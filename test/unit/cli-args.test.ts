import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';
import { parseCliArgs } from '../../cli/args.ts';
import { DEFAULT_GUARD, GUARD_EXIT_CODE, guardOf, parseGuard } from '../../cli/guard.ts';

describe('CLI arguments', () => {
  it('reads every option and keeps what follows -- for k6', () => {
    expect(parseCliArgs(['promo', '--target', 'http://127.0.0.1:9', '--env', 'prod', '--intensity', 'medium', '--promo-type', 'auto_cart',
      '--promo-name', 'BF', '--vus', '4', '--duration', '20s', '--out-dir', 'x', '--min-grade', 'A', '--abort-on-fail', '--', '--http-debug'])).toEqual({
      command: 'run', script: 'promo', target: 'http://127.0.0.1:9', environment: 'prod', intensity: 'medium', promoType: 'auto_cart',
      promoName: 'BF', vus: 4, duration: '20s', outDir: 'x', minGrade: 'A', abortOnFail: true, k8s: undefined, sink: undefined, noSink: false, testid: undefined, instances: 1, guard: 'default', extraK6Args: ['--http-debug'],
      url: undefined, promoCode: undefined, promoTypeGiven: true, allowHosts: [], yes: false, force: false,
    });
  });

  it('takes the expected peak in users or in requests per second', () => {
    expect(parseCliArgs(['ramp', '--expect-users', '5000'])).toMatchObject({ expect: { users: 5000 } });
    expect(parseCliArgs(['ramp', '--expect-rps', '120.5'])).toMatchObject({ expect: { rps: 120.5 } });
    expect(parseCliArgs(['ramp'])).not.toHaveProperty('expect');
  });

  it('reads the discovery options: --url, --promo-code, --allow-host (repeatable), --yes, --force', () => {
    const args = parseCliArgs(['promo', '--url', 'http://127.0.0.1:9/fr/p/1', '--promo-code', 'BF2026', '--allow-host', 'CDN.example:8443', '--allow-host', 'pay.example', '--yes', '--force']);
    expect(args).toMatchObject({ url: 'http://127.0.0.1:9/fr/p/1', promoCode: 'BF2026', allowHosts: ['cdn.example:8443', 'pay.example'], yes: true, force: true, promoTypeGiven: false, target: undefined });
  });

  it.each([
    [['ramp', '--intensity', 'extreme'], '--intensity must be one of light, medium, heavy, not "extreme".'],
    [['ramp', '--env', 'staging'], '--env must be one of prod, preprod, not "staging".'],
    [['ramp', '--promo-type', 'bogo'], '--promo-type must be one of striked_price, auto_cart, manual_code, none, not "bogo".'],
    [['ramp', '--vus', 'many'], '--vus must be a whole number of at least 1, not "many".'],
    [['ramp', '--duration', 'forever'], '--duration must be a duration such as 30s, 2m or 1m30s, not "forever".'],
    [['ramp', '--target', 'shop.example'], '--target must be an http:// or https:// URL, not "shop.example".'],
    [['ramp', '--bogus'], "Unknown option '--bogus'; the options are --target, --url, --promo-code, --allow-host, --yes, --force, --env, --intensity, --promo-type, --promo-name, --vus, --duration, --min-grade, --abort-on-fail, --out-dir, --sink, --no-sink, --instances, --testid, --expect-users, --expect-rps, --guard, --no-guard, --k8s, --parallelism, --namespace, --sink-url, --help."],
    [['ramp', '--instances', '0'], '--instances must be a whole number from 1 to 99, not "0".'],
    [['ramp', '--sink', 'sink:9091'], '--sink must be an http:// or https:// URL, not "sink:9091".'],
    [['ramp', '--testid', 'x'], '--testid must look like <slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>, not "x".'],
    [[], 'Name a scenario (smoke, ramp, cache-hit, promo) or a script path.'],
    // A value that starts with a dash is the value, and its own check names what is wrong.
    [['ramp', '--vus', '-3'], '--vus must be a whole number of at least 1, not "-3".'],
    [['ramp', '--duration', '-5s'], '--duration must be a duration such as 30s, 2m or 1m30s, not "-5s".'],
    [['ramp', '--instances', '-2'], '--instances must be a whole number from 1 to 99, not "-2".'],
    [['ramp', '--vus'], '--vus needs a value.'],
    [['ramp', '--target', '--env', 'prod'], '--target needs a value.'],
    [['ramp', '--abort-on-fail=yes'], '--abort-on-fail takes no value.'],
    [['ramp', '--expect-users', '0'], '--expect-users must be a whole number of users of at least 1, not "0".'],
    [['ramp', '--expect-users', '5000 users'], '--expect-users must be a whole number of users of at least 1, not "5000 users".'],
    [['ramp', '--expect-rps', '0'], '--expect-rps must be a number of requests per second above 0, not "0".'],
    [['ramp', '--expect-users', '500', '--expect-rps', '80'], 'Give either --expect-users or --expect-rps, not both.'],
    [['promo', '--url', 'shop.example/p/1'], '--url must be an http:// or https:// URL, not "shop.example/p/1".'],
    [['promo', '--url', 'http://127.0.0.1:9/p/1', '--target', 'http://127.0.0.1:9'], 'Give --url (discover the journey) or --target (the bundled paths), not both.'],
    [['my.ts', '--url', 'http://127.0.0.1:9/p/1'], '--url goes with promo, ramp, smoke or cache-hit; for my.ts, run npm run k6 -- discover <url> first.'],
    [['promo', '--allow-host', 'https://cdn.example'], '--allow-host takes a host or host:port, not "https://cdn.example".'],
    [['ramp', '--guard', 'errors>5:10s'], `--guard takes rules such as ${DEFAULT_GUARD}; "errors>5:10s" gives the errors without a % (errors>5%).`],
    [['ramp', '--guard', 'errors>5%:10s,p97>3s:10s'], `--guard takes rules such as ${DEFAULT_GUARD}; "p97>3s:10s" names no measure the guard knows (errors, p50, p90, p95, p99).`],
    [['ramp', '--guard', 'p95>3:10s'], `--guard takes rules such as ${DEFAULT_GUARD}; "p95>3:10s" gives p95 without ms or s (p95>3s).`],
    [['ramp', '--guard', 'errors>5%:soon'], `--guard takes rules such as ${DEFAULT_GUARD}; "errors>5%:soon" holds for "soon", not a duration such as 10s.`],
    [['ramp', '--guard', 'errors>5%:500ms'], `--guard takes rules such as ${DEFAULT_GUARD}; "errors>5%:500ms" must hold for 1 s to 1 h, in whole milliseconds.`],
    [['ramp', '--guard', 'errors>120%:10s'], `--guard takes rules such as ${DEFAULT_GUARD}; "errors>120%:10s" gives the errors over 100 %.`],
    [['ramp', '--guard', 'errors above 5%'], `--guard takes rules such as ${DEFAULT_GUARD}; "errorsabove5%" is not of the form measure>limit:duration.`],
    [['ramp', '--guard', DEFAULT_GUARD, '--no-guard'], '--guard and --no-guard cannot go together.'],
    [['ramp', '--guard', DEFAULT_GUARD, '--no-sink'], '--guard needs a sink: the sink judges the rules and stops the run.'],
  ])('rejects %j with one sentence', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('the guard', () => {
  const DEFAULT_RULES = { rules: [{ measure: 'errors', above: 0.05, forMs: 10_000 }, { measure: 'p95', above: 3000, forMs: 10_000 }] };

  it('reads --guard into the rules the sink judges, and --no-guard as off', () => {
    expect(parseCliArgs(['ramp', '--guard', 'errors > 2.5% : 1m, p99>800ms:1500ms'])).toMatchObject({
      guard: { rules: [{ measure: 'errors', above: 0.025, forMs: 60_000 }, { measure: 'p99', above: 800, forMs: 1500 }] },
    });
    expect(parseCliArgs(['ramp', '--no-guard'])).toMatchObject({ guard: 'off' });
    expect(parseGuard(DEFAULT_GUARD)).toEqual(DEFAULT_RULES);
  });

  it('is on by default for ramp and promo against a shop that is not the embedded demo, and off otherwise', () => {
    expect(guardOf('default', 'ramp', false)).toEqual(DEFAULT_RULES);
    expect(guardOf('default', 'promo', false)).toEqual(DEFAULT_RULES);
    expect([guardOf('default', 'ramp', true), guardOf('default', 'smoke', false), guardOf('default', 'cache-hit', false), guardOf('off', 'ramp', false)]).toEqual([null, null, null, null]);
    // Asked for, it guards any run.
    const own = { rules: [{ measure: 'errors' as const, above: 0.01, forMs: 5000 }] };
    expect(guardOf(own, 'smoke', true)).toBe(own);
  });

  it('has an exit code of its own, one k6 does not use (97 to 110), documented with the others', () => {
    expect(GUARD_EXIT_CODE < 97 || GUARD_EXIT_CODE > 110).toBe(true);
    expect([0, 1, 2]).not.toContain(GUARD_EXIT_CODE);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(new RegExp(`\\b${GUARD_EXIT_CODE} when\\s+the guard stopped`));
  });
});
