// The promo scenario's requests written by hand, without lib/: the bench's reference.
import http from 'k6/http';
import { check, sleep } from 'k6';

const base = __ENV.BASE_URL;
export const options = {
  scenarios: { plain: { executor: 'constant-vus', vus: Number(__ENV.TARGET_VUS), duration: __ENV.DURATION } },
};

export default function () {
  check(http.get(`${base}/`, { tags: { page_type: 'homepage' } }), { 'homepage answers 200': (r) => r.status === 200 });
  check(http.get(`${base}/category/shoes`, { tags: { page_type: 'category' } }), { 'category answers 200': (r) => r.status === 200 });
  const product = http.get(`${base}/product/1`, { tags: { page_type: 'product' } });
  check(product, {
    'product page answers 200': (r) => r.status === 200,
    'product page shows data-promo="striked_price"': (r) => typeof r.body === 'string' && r.body.includes('data-promo="striked_price"'),
  });
  sleep(Number(__ENV.THINK_TIME_MS) / 1000);
}
