// Users ramp up to RAMP_MAX_VUS on the product page: where does latency start to climb?
import { sleep } from 'k6';
import { scenarioSetup, rampLoad, shopPaths, getPage, checkPage, handleSummary } from '../lib/index.ts';

const setup = scenarioSetup('ramp', rampLoad);
const url = setup.profile.baseUrl + shopPaths().product;
export const options = setup.options;

export default function () {
  setup.announce();
  checkPage(getPage(url, 'product'), 'product');
  sleep(setup.profile.thinkTimeMs / 1000);
}

export { handleSummary };
