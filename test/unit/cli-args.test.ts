import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../cli/args.ts';

describe('CLI arguments', () => {
  it('reads every option and keeps what follows -- for k6', () => {
    expect(parseCliArgs(['promo', '--target', 'http://127.0.0.1:9', '--env', 'prod', '--intensity', 'medium', '--promo-type', 'auto_cart',
      '--promo-name', 'BF', '--vus', '4', '--duration', '20s', '--out-dir', 'x', '--min-grade', 'A', '--abort-on-fail', '--', '--http-debug'])).toEqual({
      command: 'run', script: 'promo', target: 'http://127.0.0.1:9', environment: 'prod', intensity: 'medium', promoType: 'auto_cart',
      promoName: 'BF', vus: 4, duration: '20s', outDir: 'x', minGrade: 'A', abortOnFail: true, k8s: undefined, sink: undefined, noSink: false, testid: undefined, instances: 1, extraK6Args: ['--http-debug'],
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
    [['ramp', '--bogus'], "Unknown option '--bogus'; the options are --target, --url, --promo-code, --allow-host, --yes, --force, --env, --intensity, --promo-type, --promo-name, --vus, --duration, --min-grade, --abort-on-fail, --out-dir, --sink, --no-sink, --instances, --testid, --expect-users, --expect-rps, --k8s, --parallelism, --namespace, --sink-url, --help."],
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
  ])('rejects %j with one sentence', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
