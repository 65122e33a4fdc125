import { describe, expect, it } from 'vitest';
import { buildDemoApp } from '../../demo/app.ts';

const app = buildDemoApp();
const get = (url: string) => app.inject({ method: 'GET', url });

describe('the shop pages', () => {
  it('shows product 1 with a striked price marked as the striked_price promo', async () => {
    const page = await get('/product/1');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<s class="price-old">129.00</s> <span class="price-promo" data-promo="striked_price">99.00</span>');
  });

  it('gives exactly the odd product ids a striked price', async () => {
    for (let id = 1; id <= 50; id++) {
      const body = (await get(`/product/${id}`)).body;
      const article = body.slice(body.indexOf('<article'), body.indexOf('</article>'));
      expect(article.includes('data-promo="striked_price"'), `product ${id}`).toBe(id % 2 === 1);
    }
  });

  it('marks each page with its page type and keeps it between 1 and 3.5 KB', async () => {
    for (const [url, pageType] of [['/', 'homepage'], ['/category/electronics', 'category'], ['/product/7', 'product']]) {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`<body data-page-type="${pageType}">`);
      expect(page.body.length).toBeGreaterThan(1_000);
      expect(page.body.length).toBeLessThan(3_500);
    }
  });

  it('lists the products of a category as links to their pages', async () => {
    const page = await get('/category/shoes');
    const linked = [...page.body.matchAll(/<a href="\/product\/(\d+)">/g)].map((match) => Number(match[1]));
    expect(linked).toEqual([1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49]);
  });

  it('answers 404 for unknown products and categories, including ids that only look numeric', async () => {
    for (const url of ['/product/0', '/product/51', '/product/01', '/product/1abc', '/category/hats']) {
      expect((await get(url)).statusCode, url).toBe(404);
    }
  });

  it('answers 404 with a JSON body for routes the shop does not have', async () => {
    const page = await get('/nowhere?x=1');
    expect(page.statusCode).toBe(404);
    expect(page.json()).toEqual({ code: 'DEMO_ERR_NOT_FOUND', message: 'No route for GET /nowhere.' });
  });

  it('answers 200 on /health', async () => {
    const health = await get('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
  });
});
