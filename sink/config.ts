// The sink's settings, from flags with env twins (SINK_*). A bad value is one sentence.
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../lib/env.ts';

export interface SinkConfig {
  port: number;
  host: string;
  /** Bearer token accepted on write (and, later, control) endpoints. */
  token?: string;
  /** "user:pass" accepted as basic auth on write endpoints. */
  basicAuth?: string;
  /** Largest decompressed remote-write body, checked from the snappy header first. */
  maxBodyBytes: number;
  maxLabels: number;
  maxLabelValueBytes: number;
  /** Length of the live window, in ms. */
  windowMs: number;
  maxSeries: number;
  maxSeriesPerRun: number;
  /** A series with no sample for this long stops counting as active, in ms. */
  seriesTtlMs: number;
  /** Runs kept, open or ended; past it the least recently touched goes. */
  maxRuns: number;
  /** Run registrations kept (POST /api/runs); past it the least recently touched goes. */
  maxRegistrations: number;
  logLevel: string;
  /** Prometheus remote-write URLs to forward to (none: embedded mode, grading only). */
  prometheusUrls: string[];
  prometheusBearerToken?: string;
  prometheusBasicAuth?: string;
  /** Extra headers for the Prometheus destinations, as "Name: value". */
  prometheusHeaders: string[];
  influxUrl?: string;
  influxDb?: string;
  influxRp?: string;
  influxUser?: string;
  influxPassword?: string;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
  /** Write-ahead spool on disk; without it the queue lives in memory only. */
  spoolDir?: string;
  spoolMaxBytes: number;
  /** Requests in flight per destination at most (never two that share a series). */
  maxInFlight: number;
  /** How often the grade series are sent to the destinations, in ms. */
  gradeIntervalMs: number;
  /**
   * The sink's own files: the history (history.jsonl) unless historyFile says otherwise.
   * The server's default is ./data (parseSinkConfig); buildApp() without one keeps no files.
   */
  dataDir?: string;
  /** JSON lines of finished runs; default <dataDir>/history.jsonl, none without a data dir. */
  historyFile?: string;
  /** POST /api/runs/start may launch bundled scenarios with the local k6. */
  allowStart: boolean;
  /** Slack incoming webhook and generic JSON webhook for notifications. */
  slackWebhookUrl?: string;
  webhookUrl?: string;
  /** Live-window limits that notify: errors (CRITICAL) and p95 in ms (WARNING). */
  alertErrorRatio: number;
  alertP95Ms: number;
  /** Grafana base URL, for dashboard links in notifications and on the status page. */
  grafanaUrl?: string;
  /** Listen beyond loopback without a token all the same (--insecure-no-token). */
  insecureNoToken: boolean;
  /** A request's headers and body must arrive within this, in ms (Fastify's requestTimeout). */
  requestTimeoutMs: number;
  /** A connection with no byte either way for this long is closed, in ms (Fastify's connectionTimeout). */
  connectionTimeoutMs: number;
}

export const DEFAULT_CONFIG: SinkConfig = {
  port: 9091,
  host: '127.0.0.1',
  maxBodyBytes: 32 * 1024 * 1024,
  maxLabels: 64,
  maxLabelValueBytes: 2048,
  windowMs: 30_000,
  maxSeries: 500_000,
  maxSeriesPerRun: 200_000,
  seriesTtlMs: 15 * 60_000,
  maxRuns: 1000,
  maxRegistrations: 256,
  logLevel: 'info',
  prometheusUrls: [],
  prometheusHeaders: [],
  spoolMaxBytes: 1024 * 1024 * 1024,
  maxInFlight: 4,
  gradeIntervalMs: 5000,
  allowStart: false,
  alertErrorRatio: 0.05,
  alertP95Ms: 3000,
  insecureNoToken: false,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
};

export class ConfigError extends Error {}

/** The first existing path at or above `path`, and whether it is a directory. */
function existingAbove(path: string): { path: string; directory: boolean } | null {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, directory: statSync(p).isDirectory() };
    } catch {
      if (dirname(p) === p) return null;
    }
  }
}

/**
 * A file-system error met while opening one of the sink's own files, as one sentence
 * naming the flag at fault (`flag` and its value `path`), or null when it is none of
 * these. `target` is the file or directory that was being opened.
 */
export function fileSettingError(err: unknown, flag: string, path: string, target: string): ConfigError | null {
  const e = err as NodeJS.ErrnoException;
  const at = e.path ?? target;
  const where = (what: string) => (resolve(at) === resolve(path) ? `${flag} ${path} ${what}.` : `${flag} ${path} cannot be used: ${at} ${what}.`);
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR': {
      const found = existingAbove(at);
      if (found && !found.directory && resolve(found.path) !== resolve(path)) return new ConfigError(`${flag} ${path} cannot be used: ${found.path} is a file, not a directory.`);
      return new ConfigError(where('is a file, not a directory'));
    }
    case 'EISDIR':
      return new ConfigError(where('is a directory, not a file'));
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(where('is not writable by this user'));
    case 'EROFS':
      return new ConfigError(where('is on a read-only file system'));
    default:
      return null;
  }
}

/** Why the sink could not listen, as one sentence, or null for anything else. */
export function listenError(err: unknown, config: Pick<SinkConfig, 'host' | 'port'>): ConfigError | null {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ConfigError(`Port ${config.port} on ${config.host} is in use by another process: stop it, or give the sink another --port.`);
    case 'EACCES':
      return new ConfigError(`Port ${config.port} needs privileges this user does not have: give a --port from 1024 up.`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`--host ${config.host} is not an address of this machine.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`--host ${config.host} does not resolve to an address of this machine.`);
    default:
      return null;
  }
}

/** The server's data directory when none is given (relative to where it starts). */
export const DEFAULT_DATA_DIR = 'data';

/** Where the history goes: --history-file, or history.jsonl in the data directory; none without either. */
export function historyPath(config: Pick<SinkConfig, 'dataDir' | 'historyFile'>): string | undefined {
  return config.historyFile ?? (config.dataDir ? join(config.dataDir, 'history.jsonl') : undefined);
}

type Kind = 'port' | 'count' | 'duration' | 'text' | 'secret' | 'userpass' | 'level' | 'url' | 'urls' | 'headers' | 'flag' | 'ratio';
const SETTINGS: Record<string, { key: keyof SinkConfig; env: string; kind: Kind }> = {
  port: { key: 'port', env: 'SINK_PORT', kind: 'port' },
  host: { key: 'host', env: 'SINK_HOST', kind: 'text' },
  token: { key: 'token', env: 'SINK_TOKEN', kind: 'secret' },
  'basic-auth': { key: 'basicAuth', env: 'SINK_BASIC_AUTH', kind: 'userpass' },
  'max-body-bytes': { key: 'maxBodyBytes', env: 'SINK_MAX_BODY_BYTES', kind: 'count' },
  'max-labels': { key: 'maxLabels', env: 'SINK_MAX_LABELS', kind: 'count' },
  'max-label-value-bytes': { key: 'maxLabelValueBytes', env: 'SINK_MAX_LABEL_VALUE_BYTES', kind: 'count' },
  window: { key: 'windowMs', env: 'SINK_WINDOW', kind: 'duration' },
  'max-series': { key: 'maxSeries', env: 'SINK_MAX_SERIES', kind: 'count' },
  'max-series-per-run': { key: 'maxSeriesPerRun', env: 'SINK_MAX_SERIES_PER_RUN', kind: 'count' },
  'series-ttl': { key: 'seriesTtlMs', env: 'SINK_SERIES_TTL', kind: 'duration' },
  'max-runs': { key: 'maxRuns', env: 'SINK_MAX_RUNS', kind: 'count' },
  'max-registrations': { key: 'maxRegistrations', env: 'SINK_MAX_REGISTRATIONS', kind: 'count' },
  'log-level': { key: 'logLevel', env: 'SINK_LOG_LEVEL', kind: 'level' },
  'prometheus-url': { key: 'prometheusUrls', env: 'SINK_PROMETHEUS_URL', kind: 'urls' },
  'prometheus-bearer-token': { key: 'prometheusBearerToken', env: 'SINK_PROMETHEUS_BEARER_TOKEN', kind: 'text' },
  'prometheus-basic-auth': { key: 'prometheusBasicAuth', env: 'SINK_PROMETHEUS_BASIC_AUTH', kind: 'text' },
  'prometheus-header': { key: 'prometheusHeaders', env: 'SINK_PROMETHEUS_HEADERS', kind: 'headers' },
  'influx-url': { key: 'influxUrl', env: 'SINK_INFLUX_URL', kind: 'url' },
  'influx-db': { key: 'influxDb', env: 'SINK_INFLUX_DB', kind: 'text' },
  'influx-rp': { key: 'influxRp', env: 'SINK_INFLUX_RP', kind: 'text' },
  'influx-user': { key: 'influxUser', env: 'SINK_INFLUX_USER', kind: 'text' },
  'influx-password': { key: 'influxPassword', env: 'SINK_INFLUX_PASSWORD', kind: 'text' },
  'influx-org': { key: 'influxOrg', env: 'SINK_INFLUX_ORG', kind: 'text' },
  'influx-bucket': { key: 'influxBucket', env: 'SINK_INFLUX_BUCKET', kind: 'text' },
  'influx-token': { key: 'influxToken', env: 'SINK_INFLUX_TOKEN', kind: 'text' },
  'spool-dir': { key: 'spoolDir', env: 'SINK_SPOOL_DIR', kind: 'text' },
  'spool-max-bytes': { key: 'spoolMaxBytes', env: 'SINK_SPOOL_MAX_BYTES', kind: 'count' },
  'max-in-flight': { key: 'maxInFlight', env: 'SINK_MAX_IN_FLIGHT', kind: 'count' },
  'grade-interval': { key: 'gradeIntervalMs', env: 'SINK_GRADE_INTERVAL', kind: 'duration' },
  'data-dir': { key: 'dataDir', env: 'SINK_DATA_DIR', kind: 'text' },
  'history-file': { key: 'historyFile', env: 'SINK_HISTORY_FILE', kind: 'text' },
  'allow-start': { key: 'allowStart', env: 'SINK_ALLOW_START', kind: 'flag' },
  'slack-webhook-url': { key: 'slackWebhookUrl', env: 'SLACK_WEBHOOK_URL', kind: 'url' },
  'webhook-url': { key: 'webhookUrl', env: 'SINK_WEBHOOK_URL', kind: 'url' },
  'alert-error-ratio': { key: 'alertErrorRatio', env: 'SINK_ALERT_ERROR_RATIO', kind: 'ratio' },
  'alert-p95-ms': { key: 'alertP95Ms', env: 'SINK_ALERT_P95_MS', kind: 'count' },
  'grafana-url': { key: 'grafanaUrl', env: 'GRAFANA_URL', kind: 'url' },
  'insecure-no-token': { key: 'insecureNoToken', env: 'SINK_INSECURE_NO_TOKEN', kind: 'flag' },
  'request-timeout': { key: 'requestTimeoutMs', env: 'SINK_REQUEST_TIMEOUT', kind: 'duration' },
  'connection-timeout': { key: 'connectionTimeoutMs', env: 'SINK_CONNECTION_TIMEOUT', kind: 'duration' },
};

const REPEATABLE = new Set(['prometheus-url', 'prometheus-header']);

function httpUrl(what: string, raw: string): string {
  if (!/^https?:\/\/[^\s/]+/.test(raw)) throw new ConfigError(`${what} must be an http:// or https:// URL, not "${raw}".`);
  return raw;
}

function convert(what: string, kind: Kind, raw: string | string[]): string | number | string[] {
  if (kind === 'urls') return (Array.isArray(raw) ? raw : raw.split(',')).map((u) => httpUrl(what, u.trim()));
  if (kind === 'headers') {
    const list = Array.isArray(raw) ? raw : raw.split(',');
    for (const h of list) if (!/^[A-Za-z0-9-]+:\s*\S/.test(h)) throw new ConfigError(`${what} must be a header such as "X-Scope-OrgID: shop", not "${h}".`);
    return list.map((h) => h.trim());
  }
  if (Array.isArray(raw)) raw = raw[raw.length - 1]!;
  switch (kind) {
    case 'flag':
      if (!['true', 'false', '1', '0', ''].includes(raw)) throw new ConfigError(`${what} takes no value, or true or false, not "${raw}".`);
      return raw === 'true' || raw === '1' || raw === '' ? 'true' : 'false';
    case 'ratio':
      if (!/^(0(\.[0-9]+)?|1(\.0+)?)$/.test(raw)) throw new ConfigError(`${what} must be a ratio between 0 and 1, not "${raw}".`);
      return Number(raw);
    case 'url':
      return httpUrl(what, raw);
    case 'port':
      if (!/^[0-9]+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(`${what} must be a port number from 0 to 65535, not "${raw}".`);
      return Number(raw);
    case 'count':
      if (!/^[1-9][0-9]*$/.test(raw)) throw new ConfigError(`${what} must be a whole number of at least 1, not "${raw}".`);
      return Number(raw);
    case 'duration': {
      const ms = parseDurationMs(raw);
      if (!ms) throw new ConfigError(`${what} must be a duration such as 30s or 5m, not "${raw}".`);
      return ms;
    }
    case 'secret':
      if (raw.length < 8) throw new ConfigError(`${what} must be at least 8 characters long.`);
      return raw;
    case 'userpass':
      if (!/^[^:]+:.{8,}$/.test(raw)) throw new ConfigError(`${what} must be user:password with a password of at least 8 characters.`);
      return raw;
    case 'level':
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)) {
        throw new ConfigError(`${what} must be one of fatal, error, warn, info, debug, trace, silent, not "${raw}".`);
      }
      return raw;
    default:
      return raw;
  }
}

/** Flags win over SINK_* env vars, which win over the defaults. */
export function parseSinkConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): SinkConfig {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(SETTINGS).map(([name, s]) => [name, s.kind === 'flag' ? { type: 'boolean' as const } : { type: 'string' as const, multiple: REPEATABLE.has(name) }]),
      ),
    }).values as Record<string, string | string[] | boolean | undefined>;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!.replace(/\..*$/, '');
    throw new ConfigError(`${message}; the options are ${Object.keys(SETTINGS).map((n) => `--${n}`).join(', ')}.`);
  }
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const flag = values[name];
    const fromFlag = typeof flag === 'boolean' ? String(flag) : flag;
    const raw = fromFlag ?? (env[setting.env] || undefined);
    if (raw === undefined) continue;
    const value = convert(fromFlag !== undefined ? `--${name}` : setting.env, setting.kind, raw);
    config[setting.key] = setting.kind === 'flag' ? value === 'true' : value;
  }
  const result = config as unknown as SinkConfig;
  // A sink started from the command line keeps its history by default, in ./data as Prometheus keeps its TSDB.
  result.dataDir ??= DEFAULT_DATA_DIR;
  if (result.dataDir === '') throw new ConfigError('--data-dir needs a directory.');
  if (result.influxUrl && !result.influxDb && !result.influxBucket) {
    throw new ConfigError('--influx-url needs --influx-db (InfluxDB 1.x) or --influx-bucket with --influx-org and --influx-token (the v2/v3 API).');
  }
  if (!result.influxUrl && (result.influxDb || result.influxBucket)) throw new ConfigError('--influx-db and --influx-bucket need --influx-url.');
  if (!isLoopback(result.host) && !result.token && !result.insecureNoToken) {
    throw new ConfigError(`--host ${result.host} listens beyond this machine, so the sink needs --token (or SINK_TOKEN); add --insecure-no-token to listen without one.`);
  }
  return result;
}

/** Only this machine can reach a listener on this host: localhost, 127.0.0.0/8 or ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
