// `npm run sink -- --port 9091 [--host 127.0.0.1]`: listens, and nothing else.
import { buildApp } from './app.ts';
import { ConfigError, isLoopback, listenError, parseSinkConfig } from './config.ts';
import { LockHeldError } from './lock.ts';

let config;
try {
  config = parseSinkConfig(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(err.message + '\n');
  process.exit(2);
}
const app = buildApp({ config, logger: { level: config.logLevel } });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`);
    void app.close().then(() => process.exit(0));
  });
}
try {
  await app.listen({ port: config.port, host: config.host });
  if (!isLoopback(config.host) && !config.token) {
    app.log.warn(`listening on ${config.host} without a token (--insecure-no-token): anyone who reaches this port can write to the sink and register runs`);
  }
} catch (err) {
  // Another sink owns this data directory or spool: say which, and leave its files alone (exit 3).
  // A setting the sink cannot use (a port in use, a data directory that is a file): one sentence, exit 2.
  const sentence = err instanceof LockHeldError || err instanceof ConfigError ? err : listenError(err, config);
  if (!sentence) throw err;
  process.stderr.write(sentence.message + '\n');
  await app.close().catch(() => {});
  process.exit(err instanceof LockHeldError ? 3 : 2);
}
