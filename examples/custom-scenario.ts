// A scenario of your own, outside scripts-src/: import the toolkit by package name.
// Run it with: npm run k6 -- examples/custom-scenario.ts
import { sleep } from 'k6';
import { scenarioSetup, constantLoad, shopPaths, getPage, checkPage, recordCache, handleSummary } from 'promo-load-analyzer/lib';

const setup = scenarioSetup('custom', constantLoad);
const url = setup.profile.baseUrl + shopPaths().category;
export const options = setup.options;

export default function () {
  // Tells the sink the thresholds, so it judges them over every instance's data.
  setup.announce();
  const res = getPage(url, 'category');
  checkPage(res, 'category');
  recordCache(res);
  sleep(setup.profile.thinkTimeMs / 1000);
}

export { handleSummary };
