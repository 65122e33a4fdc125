// Starts the demo shop: `tsx demo/server.ts --port 8080 --host 127.0.0.1`.
// Every flag has a DEMO_* environment twin (--max-queue ↔ DEMO_MAX_QUEUE); the flag wins.
import { parseArgs } from 'node:util';
import { buildDemoApp, type DemoOptions } from './app.ts';
import { DemoOptionsError } from './options.ts';

const NUMERIC_OPTIONS = {
  concurrency: 'concurrency',
  'service-time-ms': 'serviceTimeMs',
  'max-queue': 'maxQueue',
  'queue-timeout-ms': 'queueTimeoutMs',
  'cache-ttl-s': 'cacheTtlS',
  'cache-swr-s': 'cacheSwrS',
  'max-carts': 'maxCarts',
} as const satisfies Record<string, keyof DemoOptions>;
const FLAGS = ['port', 'host', 'admin-token', 'promo-code', ...Object.keys(NUMERIC_OPTIONS)];

class UsageError extends Error {}

function readConfig(argv: string[], env: NodeJS.ProcessEnv): { port: number; host: string; options: DemoOptions } {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options: Object.fromEntries(FLAGS.map((flag) => [flag, { type: 'string' }])) }).values;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0].replace(/\.$/, '');
    throw new UsageError(`${reason}; the flags are --${FLAGS.join(', --')}.`);
  }
  const text = (flag: string): { value: string; source: string } | undefined => {
    const envName = `DEMO_${flag.toUpperCase().replaceAll('-', '_')}`;
    const fromFlag = flags[flag];
    if (typeof fromFlag === 'string') return { value: fromFlag, source: `--${flag}` };
    return env[envName] ? { value: env[envName], source: envName } : undefined;
  };
  const number = (flag: string): number | undefined => {
    const given = text(flag);
    if (!given) return undefined;
    if (/^-?\d+(\.\d+)?$/.test(given.value.trim())) return Number(given.value);
    throw new UsageError(`${given.source} must be a number, got ${JSON.stringify(given.value)}.`);
  };

  const options: DemoOptions = { logger: { level: 'warn' }, adminToken: text('admin-token')?.value, promoCode: text('promo-code')?.value };
  for (const [flag, option] of Object.entries(NUMERIC_OPTIONS)) options[option] = number(flag);
  const port = number('port') ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`The port must be an integer from 0 to 65535, got ${port}.`);
  return { port, host: text('host')?.value ?? '127.0.0.1', options };
}

function configure(): { app: ReturnType<typeof buildDemoApp>; port: number; host: string } {
  try {
    const { port, host, options } = readConfig(process.argv.slice(2), process.env);
    return { app: buildDemoApp(options), port, host };
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof DemoOptionsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

const { app, port, host } = configure();
const url = await app.listen({ port, host });
process.stdout.write(`Demo shop listening on ${url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
