// The k6 scenario whose pushes the benches replay (see record-k6-pushes.ts): the
// toolkit's tags and page helpers over many product and category URLs, so one push
// carries well over 1,000 series, as a real shop's promo run does.
import { scenarioSetup, getPage, checkPage, positiveInt, k6Env } from '../lib/index.ts';

const env = k6Env();
const products = positiveInt(env, 'PRODUCTS', 120);
const categories = positiveInt(env, 'CATEGORIES', 12);
const setup = scenarioSetup('promo', (profile) => ({ executor: 'constant-vus', vus: profile.vus, duration: profile.duration }));
export const options = setup.options;
const base = setup.profile.baseUrl;

export default function () {
  if (Math.random() < 0.1) {
    const c = Math.floor(Math.random() * categories);
    checkPage(getPage(`${base}/category/c${c}`, 'category'), 'category');
  } else {
    const p = Math.floor(Math.random() * products);
    checkPage(getPage(`${base}/product/${p}`, 'product'), 'product');
  }
}
