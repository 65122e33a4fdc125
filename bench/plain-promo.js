// The bench's reference: the journey discovery generates for the demo shop's product page
// (npm run k6 -- promo), written by hand in plain k6 without lib/. The same requests with
// the same headers and bodies, the same token reads (the csrf_token cookie for the cart
// API's header, the cart page's hidden csrf_token for its code form) and the same checks.
import http from 'k6/http';
import { check, sleep } from 'k6';

const base = __ENV.BASE_URL;
const code = __ENV.PROMO_CODE;
export const options = {
  scenarios: { plain: { executor: 'constant-vus', vus: Number(__ENV.TARGET_VUS), duration: __ENV.DURATION } },
};

const ok = (r) => r.status === 200;

export default function () {
  check(http.get(`${base}/`, { tags: { page_type: 'homepage' } }), { 'homepage answers 200': ok });
  check(http.get(`${base}/category/shoes`, { tags: { page_type: 'category' } }), { 'category answers 200': ok });
  const product = http.get(`${base}/product/1`, { tags: { page_type: 'product' } });
  check(product, {
    'product page answers 200': ok,
    'product page shows the striked price': (r) => r.body.includes('<del class="price price--old">€129.00</del>'),
  });

  // The product page's script sends the csrf_token cookie back in a header.
  const token = http.cookieJar().cookiesForURL(product.url).csrf_token;
  check(product, { 'the csrf_token cookie is found': () => token !== undefined });
  const added = http.post(`${base}/api/cart/items`, JSON.stringify({ productId: 1, qty: 2 }), {
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Csrf-Token': token ? token[0] : '' },
    tags: { page_type: 'cart' },
  });
  check(added, { 'add to cart answers 200': ok });

  const cart = http.get(`${base}/cart`, { tags: { page_type: 'cart' } });
  check(cart, {
    'cart answers 200': ok,
    'the discount line appears': (r) => r.body.includes('Automatic discount: −10 % from €100.00'),
  });

  // The code form's hidden token, read from the cart page; k6 follows the 303 back to /cart.
  const hidden = /name="csrf_token" value="([^"]*)"/.exec(cart.body);
  const applied = http.post(`${base}/cart/code`, { csrf_token: hidden ? hidden[1] : '', code }, {
    headers: { Referer: cart.url },
    tags: { page_type: 'cart' },
  });
  check(applied, {
    'apply code answers 200': ok,
    'the code is accepted': (r) => r.body.includes(`Code ${code}: −20 %`),
  });
  sleep(Number(__ENV.THINK_TIME_MS) / 1000);
}
