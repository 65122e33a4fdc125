// `npm run bench [name…]`: runs the benchmarks, each printing its figures beside a
// reference measured in the same run.
import { benchPromoVsPlain } from './promo-vs-plain.ts';
import { benchSinkIngest } from './native-ingest.ts';
import { benchRelay } from './relay.ts';
import { benchSinkAbuse } from './sink-abuse.ts';
import { buildAll } from '../build/build.ts';

const benches: Record<string, () => Promise<void>> = {
  'promo-vs-plain': benchPromoVsPlain,
  'sink-ingest': benchSinkIngest,
  relay: benchRelay,
  'sink-abuse': benchSinkAbuse,
};

// The benches start what ships: dist/ as npm run build makes it.
await buildAll();

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in benches)) {
    console.error(`Unknown bench "${name}"; the benches are ${Object.keys(benches).join(', ')}.`);
    process.exit(2);
  }
}
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  await run();
}
