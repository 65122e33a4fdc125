// The cheap extraction a generated scenario runs on every iteration: tokens, form fields,
// meta tags, JSON paths and boundaries, read without a DOM parse.
import { describe, expect, it } from 'vitest';
import { between, extractFrom, formFields, inputValue, jsonValue, metaContent } from '../../lib/extract.ts';
import { resolveUrl, splitUrl } from '../../lib/urls.ts';

const page = `<html><head><meta name="csrf-token" content="m3ta&amp;tok"></head><body>
<form id="language_selector" action="/i18n/setlang/" method="post"><input type="hidden" name="csrfmiddlewaretoken" value="FIRST"></form>
<form id="add_to_basket_form" action="/fr/basket/add/1/" method="post" class="add-to-basket">
  <input type="hidden" name="csrfmiddlewaretoken" value="SECOND">
  <input type="hidden" name="quantity" value="1" id="id_quantity">
  <input type="hidden" name="quantity_max" value="9">
  <input type="checkbox" name="gift"><input type="checkbox" name="newsletter" checked>
  <input type="text" name="disabled_one" value="x" disabled>
  <select name="group[1]"><option value="1">S</option><option value="2" selected>M</option></select>
  <textarea name="note">hi &amp; bye</textarea>
  <button type="submit" name="add">Ajouter au panier</button>
</form></body></html>`;

describe('lib/extract', () => {
  it('reads an input inside the form its marker names, not the first one of the page', () => {
    expect(inputValue(page, 'csrfmiddlewaretoken')).toBe('FIRST');
    expect(inputValue(page, 'csrfmiddlewaretoken', 'id="add_to_basket_form"')).toBe('SECOND');
    expect(inputValue(page, 'quantity', 'id="add_to_basket_form"')).toBe('1');
    expect(inputValue(page, 'missing', 'id="add_to_basket_form"')).toBeNull();
    expect(inputValue(page, 'csrfmiddlewaretoken', 'id="no_such_form"')).toBeNull();
  });

  it('reads every field a browser would send, as the page has them now', () => {
    expect(formFields(page, 'id="add_to_basket_form"')).toEqual({ csrfmiddlewaretoken: 'SECOND', quantity: '1', quantity_max: '9', newsletter: 'on', 'group[1]': '2', note: 'hi & bye' });
  });

  it('reads meta tags, boundaries, JSON paths and headers', () => {
    expect(metaContent(page, 'csrf-token')).toBe('m3ta&tok');
    expect(between('<div data-cart="c-42" x>', 'data-cart="', '"')).toBe('c-42');
    expect(jsonValue('{"cart":{"items":[{"key":"k1"}],"id":7}}', 'cart.items.0.key')).toBe('k1');
    expect(jsonValue('{"cart":{"id":7}}', 'cart.id')).toBe('7');
    expect(jsonValue('not json', 'a')).toBeNull();
    expect(extractFrom('', { 'X-Cart-Token': 'abc' }, { header: 'x-cart-token' })).toBe('abc');
    expect(extractFrom('', {}, { cookie: 'csrftoken' }, { csrftoken: 'ck' })).toBe('ck');
  });

  it('resolves hrefs, actions and Locations as a browser does', () => {
    expect(splitUrl('http://127.0.0.1:8765/fr/basket/?x=1')).toEqual({ origin: 'http://127.0.0.1:8765', host: '127.0.0.1:8765', path: '/fr/basket/?x=1' });
    expect(resolveUrl('http://h/fr/catalogue/p_1/', '/fr/basket/')).toBe('http://h/fr/basket/');
    expect(resolveUrl('http://h/fr/catalogue/p_1/', '../other/')).toBe(new URL('../other/', 'http://h/fr/catalogue/p_1/').href);
    expect(resolveUrl('http://h/fr/basket/', '?page=2')).toBe('http://h/fr/basket/?page=2');
    expect(resolveUrl('https://h/a', '//cdn.example/x.js')).toBe('https://cdn.example/x.js');
    expect(resolveUrl('http://h/a', 'http://other/b')).toBe('http://other/b');
  });
});
