// compose.yaml as docker-compose (v1, Debian's docker-compose) resolves it with a .env:
// what is published where, and the refusal to start without Grafana's admin password.
// No Docker engine is needed: `docker-compose config` only reads and interpolates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SINK_NODE_FLAGS } from '../../contract/dist-layout.ts';

const DOCKER_COMPOSE = '/usr/bin/docker-compose';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'compose.yaml');

/** .env.example with every CHANGE_ME replaced, minus the variables named in `without`. */
function envFile(dir: string, name: string, without: string[] = []): string {
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((l) => !without.some((v) => l.startsWith(`${v}=`)))
    .map((l) => l.replace(/=CHANGE_ME\w*$/, '=test-secret-123'));
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n'));
  return file;
}

function composeConfig(env: string, profiles: string[] = []) {
  if (!existsSync(DOCKER_COMPOSE)) throw new Error(`${DOCKER_COMPOSE} is missing: install it with "apt-get install docker-compose".`);
  // A clean environment: a GRAFANA_ADMIN_PASSWORD in the caller's shell must not leak in.
  const res = spawnSync(DOCKER_COMPOSE, ['-f', COMPOSE_FILE, '--env-file', env, ...profiles.flatMap((p) => ['--profile', p]), 'config'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

interface Service {
  image?: string;
  command?: string[];
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  expose?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  volumes?: string[];
  build?: { context: string };
}

let dir: string;
let services: Record<string, Service>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pla-compose-'));
  const res = composeConfig(envFile(dir, 'full.env'), ['k6']);
  if (res.code !== 0) throw new Error(`docker-compose config failed: ${res.stderr}`);
  services = parse(res.stdout).services;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** "127.0.0.1:3000:3000/tcp" or the long form → host IP and ports. */
function bindings(service: Service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: String(p.target) };
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    return parts.length === 3 ? { hostIp: parts[0]!, published: parts[1]!, target: parts[2]! } : { hostIp: '', published: parts[0]!, target: parts[1] ?? parts[0]! };
  });
}

describe('compose.yaml', () => {
  it('defines the whole stack, with k6 under the k6 profile', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo', 'grafana', 'influxdb', 'k6', 'prometheus', 'sink']);
    expect(services.k6!.profiles).toEqual(['k6']);
  });

  it("publishes Grafana on 127.0.0.1 only", () => {
    const ports = bindings(services.grafana!);
    expect(ports).toEqual([{ hostIp: '127.0.0.1', published: '3000', target: '3000' }]);
  });

  it('publishes nothing of Prometheus, InfluxDB and Alertmanager on the host', () => {
    for (const name of ['prometheus', 'influxdb', 'alertmanager']) expect(services[name]!.ports ?? [], name).toEqual([]);
  });

  it('binds every published port to loopback', () => {
    for (const [name, service] of Object.entries(services)) for (const b of bindings(service)) expect(b.hostIp, `${name} ${b.published}`).toBe('127.0.0.1');
  });

  it('runs Prometheus as a remote-write receiver with native histograms', () => {
    expect(services.prometheus!.command).toEqual(expect.arrayContaining(['--web.enable-remote-write-receiver', '--enable-feature=native-histograms', '--config.file=/etc/prometheus/prometheus.yml']));
  });

  it("takes Grafana's admin password from .env and hands the InfluxDB credentials to its provisioning", () => {
    const env = services.grafana!.environment!;
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe('test-secret-123');
    expect(env.INFLUXDB_USER).toBe('k6');
    expect(env.INFLUXDB_PASSWORD).toBe('test-secret-123');
    expect(services.grafana!.volumes).toEqual(expect.arrayContaining([`${join(ROOT, 'grafana/provisioning')}:/etc/grafana/provisioning:ro`, `${join(ROOT, 'grafana/dashboards')}:/var/lib/grafana/dashboards:ro`]));
  });

  it('builds the sink from the repository and runs its build output, listening on all interfaces, with a health check and its destinations', () => {
    const sink = services.sink!;
    expect(sink.build?.context.replace(/\/$/, '')).toBe(ROOT.replace(/\/$/, ''));
    expect(sink.command).toEqual(['node', ...SINK_NODE_FLAGS, 'dist/sink/server.js', '--host', '0.0.0.0', '--port', '9091']);
    expect(services.demo!.command).toEqual(['node', 'dist/demo/server.js', '--host', '0.0.0.0', '--port', '8080']);
    expect(sink.healthcheck!.test.join(' ')).toContain('/-/healthy');
    expect(sink.environment).toMatchObject({
      SINK_PROMETHEUS_URL: 'http://prometheus:9090/api/v1/write',
      SINK_INFLUX_URL: 'http://influxdb:8086',
      SINK_INFLUX_DB: 'k6',
      SINK_TOKEN: 'test-secret-123',
    });
  });

  it('points k6 at the sink with the same token and native histograms, running a bundle from ./dist/scenarios', () => {
    const k6 = services.k6!;
    expect(k6.image).toMatch(/^grafana\/k6:/);
    expect(k6.command).toEqual(['run', '-o', 'experimental-prometheus-rw', '/scenarios/promo.js']);
    expect(k6.volumes).toContain(`${join(ROOT, 'dist', 'scenarios')}:/scenarios:ro`);
    expect(k6.environment).toMatchObject({
      K6_PROMETHEUS_RW_SERVER_URL: 'http://sink:9091/api/v1/write',
      K6_PROMETHEUS_RW_BEARER_TOKEN: 'test-secret-123',
      K6_FEATURES: 'native-histograms',
    });
  });

  it('refuses to resolve without GRAFANA_ADMIN_PASSWORD, saying which variable to set in .env', () => {
    const res = composeConfig(envFile(dir, 'no-grafana-password.env', ['GRAFANA_ADMIN_PASSWORD']));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('GRAFANA_ADMIN_PASSWORD is required');
    expect(res.stderr).toContain('set it in .env');
    expect(res.stdout).not.toContain('GF_SECURITY_ADMIN_PASSWORD');
  });

  it('ships an .env.example with placeholders only, every secret to be changed', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const name of ['GRAFANA_ADMIN_PASSWORD', 'SINK_TOKEN', 'INFLUXDB_PASSWORD', 'INFLUXDB_ADMIN_PASSWORD']) {
      expect(example).toMatch(new RegExp(`^${name}=CHANGE_ME\\w*$`, 'm'));
    }
  });
});
