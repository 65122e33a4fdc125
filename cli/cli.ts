// `npm run k6 -- <scenario|path.ts> [options]`. The exit code is k6's own.
import { CliError, parseCliArgs, USAGE } from './args.ts';
import { K6NotFoundError } from './k6-binary.ts';
import { runScenario, k8sYaml } from './run-scenario.ts';
import { historyCommand, compareCommand } from './history.ts';
import { reportCommand } from './report.ts';
import { forecastCommand } from './forecast.ts';
import { discoverCommand } from './discover/command.ts';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'history') return historyCommand(argv.slice(1), process.stdout);
  if (argv[0] === 'compare') return compareCommand(argv.slice(1), process.stdout);
  if (argv[0] === 'discover') return discoverCommand(argv.slice(1), (line) => process.stdout.write(line + '\n'));
  if (argv[0] === 'report') return reportCommand(argv.slice(1), (line) => process.stdout.write(line + '\n'));
  if (argv[0] === 'forecast') return forecastCommand(argv.slice(1), process.stdout);
  const args = parseCliArgs(argv);
  if (args.command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.k8s) {
    process.stdout.write(await k8sYaml(args));
    return 0;
  }
  return (await runScenario(args)).exitCode;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof CliError || err instanceof K6NotFoundError) {
    process.stderr.write(err.message + '\n');
    process.exitCode = 2;
  } else {
    throw err;
  }
}
