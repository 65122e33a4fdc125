// One user walks the main pages: does the shop answer at all?
import { sleep } from 'k6';
import { scenarioSetup, smokeLoad, shopPaths, getPage, checkPage, handleSummary } from '../lib/index.ts';

const setup = scenarioSetup('smoke', smokeLoad);
const paths = shopPaths();
const base = setup.profile.baseUrl;
export const options = setup.options;

export default function () {
  setup.announce();
  checkPage(getPage(base + paths.homepage, 'homepage'), 'homepage');
  checkPage(getPage(base + paths.category, 'category'), 'category');
  checkPage(getPage(base + paths.product, 'product'), 'product');
  sleep(setup.profile.thinkTimeMs / 1000);
}

export { handleSummary };
