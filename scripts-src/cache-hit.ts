// Does the cache in front of the shop serve hits, and answer conditional requests with 304?
import { sleep } from 'k6';
import {
  scenarioSetup, constantLoad, shopPaths, getPage, checkPage, recordCache, replayConditional,
  handleSummary,
} from '../lib/index.ts';

const setup = scenarioSetup('cache_hit', constantLoad, {
  thresholds: { cache_hit_rate: ['rate>0.5'], cache_304_rate: ['rate>0.95'] },
});
const paths = shopPaths();
const urls: Array<[string, 'homepage' | 'category' | 'product']> = [
  [setup.profile.baseUrl + paths.homepage, 'homepage'],
  [setup.profile.baseUrl + paths.category, 'category'],
  [setup.profile.baseUrl + paths.product, 'product'],
];
export const options = setup.options;

export default function () {
  setup.announce();
  for (const [url, pageType] of urls) {
    const res = getPage(url, pageType);
    checkPage(res, pageType);
    const cache = recordCache(res);
    if (cache.etag) replayConditional(url, cache.etag, pageType);
  }
  sleep(setup.profile.thinkTimeMs / 1000);
}

export { handleSummary };
