// Secrets never reach the sink's logs or /metrics: destination URLs lose their userinfo
// and their query values in the start-up log and in sink_destination_info, and a token a
// client puts in a query string is not logged.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../sink/app.ts';
import { redactUrl } from '../../sink/redact.ts';

const SECRETS = ['pr0m-pa55word', 'PROM_API_KEY_1', 'infl-pa55word', 'INFLUX_QUERY_KEY', 'influx-password-flag', 'client-token-in-query', 'pr0m-bearer-t0ken'];

describe('redaction', () => {
  it('strips userinfo and every query value from a URL, absolute or a request path', () => {
    expect(redactUrl('https://user:pa55@prom.example:9090/api/v1/write?api_key=k&extra_label=env%3Dprod&flag')).toBe(
      'https://prom.example:9090/api/v1/write?api_key=redacted&extra_label=redacted&flag',
    );
    expect(redactUrl('http://127.0.0.1:8086')).toBe('http://127.0.0.1:8086');
    expect(redactUrl('/api/runs/x/events?token=abc#frag')).toBe('/api/runs/x/events?token=redacted');
    expect(redactUrl('/api/runs')).toBe('/api/runs');
  });

  it('keeps destination credentials and query values, and tokens in request URLs, out of the logs and /metrics', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const app = buildApp({
      config: {
        prometheusUrls: ['http://prom-user:pr0m-pa55word@127.0.0.1:9/api/v1/write?api_key=PROM_API_KEY_1'],
        prometheusBearerToken: 'pr0m-bearer-t0ken',
        influxUrl: 'http://influx-user:infl-pa55word@127.0.0.1:9/?key=INFLUX_QUERY_KEY',
        influxDb: 'k6',
        influxUser: 'k6',
        influxPassword: 'influx-password-flag',
      },
      logger: { level: 'info', stream },
      drainTimeoutMs: 0,
    });
    try {
      await app.ready();
      const metrics = (await app.inject('/metrics')).body;
      await app.inject('/api/runs?token=client-token-in-query');
      const log = lines.join('');
      expect(SECRETS.filter((s) => log.includes(s) || metrics.includes(s))).toEqual([]);
      // What is printed still says where the data goes.
      const forwarding = lines.map((l) => JSON.parse(l).msg as string).filter((m) => m.startsWith('forwarding to'));
      expect(forwarding).toEqual([
        expect.stringMatching(/^forwarding to prometheus-127\.0\.0\.1-9-[0-9a-f]{6}: http:\/\/127\.0\.0\.1:9\/api\/v1\/write\?api_key=redacted$/),
        expect.stringMatching(/^forwarding to influx-127\.0\.0\.1-9-[0-9a-f]{6}: http:\/\/127\.0\.0\.1:9\/\?key=redacted$/),
      ]);
      expect(metrics.split('\n').filter((l) => l.startsWith('sink_destination_info')).map((l) => l.replace(/destination="[^"]+",/, ''))).toEqual([
        'sink_destination_info{key="prometheus http://127.0.0.1:9/api/v1/write?api_key=redacted"} 1',
        'sink_destination_info{key="influx http://127.0.0.1:9/?key=redacted db=k6 rp="} 1',
      ]);
      expect(log).toContain('"url":"/api/runs?token=redacted"');
    } finally {
      await app.close();
    }
  });
});
