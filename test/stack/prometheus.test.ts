// Prometheus config and alert rules, checked by the real promtool (Debian's prometheus package).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const PROMTOOL = '/usr/bin/promtool';
const dir = fileURLToPath(new URL('../../prometheus/', import.meta.url));

function promtool(...args: string[]) {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: install it with "apt-get install prometheus".`);
  const res = spawnSync(PROMTOOL, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status, output: `${res.stdout}${res.stderr}` };
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}
interface RuleTests {
  tests: { name: string; alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[] }[];
}

const seconds = (t: string) => {
  const m = /^(\d+)(s|m)$/.exec(t);
  if (!m) throw new Error(`Unexpected eval_time ${t}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

describe('Prometheus configuration', () => {
  it('passes promtool check config, rule file included', () => {
    const res = promtool('check', 'config', 'prometheus.yml');
    expect(res.output).toContain('SUCCESS');
    expect(res.code, res.output).toBe(0);
  });

  it('scrapes the sink at sink:9091 and the demo shop, and sends alerts to Alertmanager', () => {
    const config = parse(readFileSync(`${dir}prometheus.yml`, 'utf8'));
    const targets = Object.fromEntries(config.scrape_configs.map((s: { job_name: string; static_configs: { targets: string[] }[] }) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]));
    expect(targets.sink).toEqual(['sink:9091']);
    expect(targets.demo).toEqual(['demo:8080']);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    expect(config.rule_files).toEqual(['alerts.yml']);
  });

  it('has alert rules that pass promtool check rules', () => {
    const res = promtool('check', 'rules', 'alerts.yml');
    expect(res.output).toContain('SUCCESS');
    expect(res.code, res.output).toBe(0);
  });

  it('has the run and sink alerts with the agreed thresholds and severities', () => {
    const rules = (parse(readFileSync(`${dir}alerts.yml`, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(byName.PromoErrorRateHigh?.expr).toMatch(/promo_error_ratio\{window="live"\}\) > 0\.05/);
    expect(byName.PromoErrorRateHigh?.labels?.severity).toBe('critical');
    expect(byName.PromoResponseTimeHigh?.expr).toMatch(/promo_p95_ms\{window="live"\}\) > 3000/);
    expect(byName.PromoResponseTimeHigh?.labels?.severity).toBe('warning');
    // D is 50–69: "D or worse" is a score below 70, not below 50.
    expect(byName.PromoGradeLow?.expr).toMatch(/promo_grade_score\{window="live"\}\) < 70/);
    expect(byName.SinkDown?.expr).toBe('up{job="sink"} == 0');
    expect(byName.SinkDroppingSamples?.expr).toContain('sink_destination_samples_dropped_total');
    expect(byName.SinkDestinationRefusing?.expr).toContain('sink_destination_samples_failed_total');
    expect(byName.SinkSpooling?.expr).toContain('sink_destination_queue_samples) > 0');
    expect(byName.SinkSpooling?.for).toBe('5m');
  });

  it('passes its rule unit tests, in which every alert fires and then resolves', () => {
    const res = promtool('test', 'rules', 'alerts.test.yml');
    expect(res.output).toContain('SUCCESS');
    expect(res.code, res.output).toBe(0);

    const alerts = (parse(readFileSync(`${dir}alerts.yml`, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean);
    const cases = (parse(readFileSync(`${dir}alerts.test.yml`, 'utf8')) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const checks = cases.filter((c) => c.alertname === alert).sort((a, b) => seconds(a.eval_time) - seconds(b.eval_time));
      const firstFiring = checks.findIndex((c) => c.exp_alerts.length > 0);
      expect(firstFiring, `${alert} is never expected to fire`).toBeGreaterThan(-1);
      expect(firstFiring, `${alert} has no check that it is still pending before it fires`).toBeGreaterThan(0);
      expect(checks.slice(firstFiring + 1).some((c) => c.exp_alerts.length === 0), `${alert} is never expected to resolve`).toBe(true);
    }
  });

  it('fails promtool test rules when an expected alert does not fire (the check has teeth)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'pla-rules-'));
    try {
      const file = join(tmp, 'never-fires.test.yml');
      writeFileSync(
        file,
        [
          `rule_files: [${JSON.stringify(join(dir, 'alerts.yml'))}]`,
          'evaluation_interval: 15s',
          'tests:',
          '  - interval: 15s',
          '    input_series:',
          "      - series: 'up{job=\"sink\", instance=\"sink:9091\"}'",
          "        values: '1x10'",
          '    alert_rule_test:',
          '      - eval_time: 2m',
          '        alertname: SinkDown',
          '        exp_alerts: [{ exp_labels: { severity: critical, job: sink, instance: "sink:9091" } }]',
        ].join('\n'),
      );
      const res = promtool('test', 'rules', file);
      expect(res.code).not.toBe(0);
      expect(res.output).toContain('FAILED');
      expect(res.output).toContain('alertname: SinkDown');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
