// Alertmanager's config, checked by the real amtool (Debian's prometheus-alertmanager package).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const AMTOOL = '/usr/bin/amtool';
const file = fileURLToPath(new URL('../../alertmanager/alertmanager.yml', import.meta.url));

describe('Alertmanager configuration', () => {
  it('passes amtool check-config', () => {
    if (!existsSync(AMTOOL)) throw new Error(`${AMTOOL} is missing: install it with "apt-get install prometheus-alertmanager".`);
    const res = spawnSync(AMTOOL, ['check-config', file], { encoding: 'utf8', timeout: 60_000 });
    expect(`${res.stdout}${res.stderr}`).toContain('SUCCESS');
    expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
  });

  it('sends every alert to Slack with the webhook URL read from the mounted secret, never written inline', () => {
    const text = readFileSync(file, 'utf8');
    const config = parse(text);
    expect(config.global.slack_api_url_file).toBe('/run/secrets/slack_webhook_url');
    expect(config.route.receiver).toBe('slack');
    const slack = config.receivers.find((r: { name: string }) => r.name === 'slack');
    expect(slack.slack_configs[0].send_resolved).toBe(true);
    expect(text).not.toMatch(/hooks\.slack\.com/);
    expect(text).not.toMatch(/^\s*(slack_)?api_url:/m);
  });

  it('is mounted by compose together with the webhook secret at the path it reads', () => {
    const compose = readFileSync(fileURLToPath(new URL('../../compose.yaml', import.meta.url)), 'utf8');
    expect(compose).toContain('./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro');
    expect(parse(compose).services.alertmanager.secrets).toEqual(['slack_webhook_url']);
  });
});
