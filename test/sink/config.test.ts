// The sink's flags and their SINK_* twins: values, defaults, and one sentence per bad value.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONFIG, historyPath, parseSinkConfig } from '../../sink/config.ts';

describe('the sink configuration', () => {
  it('allows four requests in flight per destination by default, and takes --max-in-flight or SINK_MAX_IN_FLIGHT, the flag first', () => {
    expect(DEFAULT_CONFIG.maxInFlight).toBe(4);
    expect(parseSinkConfig([], {}).maxInFlight).toBe(4);
    expect(parseSinkConfig(['--max-in-flight', '1'], {}).maxInFlight).toBe(1);
    expect(parseSinkConfig([], { SINK_MAX_IN_FLIGHT: '8' }).maxInFlight).toBe(8);
    expect(parseSinkConfig(['--max-in-flight', '2'], { SINK_MAX_IN_FLIGHT: '8' }).maxInFlight).toBe(2);
  });

  it('keeps its history in ./data by default, in --data-dir or SINK_DATA_DIR when given, or in --history-file', () => {
    expect(historyPath(parseSinkConfig([], {}))).toBe(join('data', 'history.jsonl'));
    expect(historyPath(parseSinkConfig(['--data-dir', '/var/lib/sink'], {}))).toBe('/var/lib/sink/history.jsonl');
    expect(historyPath(parseSinkConfig([], { SINK_DATA_DIR: '/srv/sink' }))).toBe('/srv/sink/history.jsonl');
    expect(historyPath(parseSinkConfig(['--history-file', '/tmp/h.jsonl'], { SINK_DATA_DIR: '/srv/sink' }))).toBe('/tmp/h.jsonl');
    // buildApp() on its own (tests, embedding) keeps no files unless told to.
    expect(historyPath(DEFAULT_CONFIG)).toBeUndefined();
  });

  it.each([
    [['--max-in-flight', '0'], {}, '--max-in-flight must be a whole number of at least 1, not "0".'],
    [[], { SINK_MAX_IN_FLIGHT: 'many' }, 'SINK_MAX_IN_FLIGHT must be a whole number of at least 1, not "many".'],
    [['--spool-max-bytes', '1.5'], {}, '--spool-max-bytes must be a whole number of at least 1, not "1.5".'],
    [['--prometheus-url', 'prometheus:9090'], {}, '--prometheus-url must be an http:// or https:// URL, not "prometheus:9090".'],
    [['--influx-url', 'http://127.0.0.1:8086'], {}, '--influx-url needs --influx-db (InfluxDB 1.x) or --influx-bucket with --influx-org and --influx-token (the v2/v3 API).'],
  ])('refuses %j with env %j in one sentence', (argv, env, sentence) => {
    expect(() => parseSinkConfig(argv, env)).toThrow(new ConfigError(sentence));
  });
});
