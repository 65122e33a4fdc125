import { BAD_CODE_MESSAGE, type CartRules, type CartView } from './cart.ts';
import { layout, money } from './pages.ts';
import { CSRF_FIELD } from './session.ts';

/** What the code form's Post/Redirect/Get leaves for the cart page to say once. */
export type CartNotice = 'code_applied' | 'code_refused' | 'code_missing';

const NOTICE_COOKIE = 'cart_notice';
const NOTICE_IN_COOKIES = new RegExp(`(?:^|;\\s*)${NOTICE_COOKIE}=(code_applied|code_refused|code_missing)(?:;|$)`);

/** A flash message in a cookie, as Django's and Rails' cookie-backed messages: read once, then cleared. */
export const noticeCookie = (notice: CartNotice): string => `${NOTICE_COOKIE}=${notice}; Path=/cart; Max-Age=60; HttpOnly; SameSite=Lax`;
export const clearedNoticeCookie = `${NOTICE_COOKIE}=; Path=/cart; Max-Age=0; HttpOnly; SameSite=Lax`;
export const noticeIn = (cookieHeader: string | undefined): CartNotice | undefined =>
  NOTICE_IN_COOKIES.exec(cookieHeader ?? '')?.[1] as CartNotice | undefined;

const cents = (euros: number): number => Math.round(euros * 100);

function noticeHtml(notice: CartNotice | undefined, rules: CartRules): string {
  switch (notice) {
    case 'code_applied':
      return `<p class="notice notice--success" role="status">The code ${rules.promoCode} is applied: −${rules.promoCodePercent} %.</p>`;
    case 'code_refused':
      return `<p class="notice notice--error" role="alert">${BAD_CODE_MESSAGE}</p>`;
    case 'code_missing':
      return '<p class="notice notice--error" role="alert">Enter a promo code.</p>';
    default:
      return '';
  }
}

function discountLabel(type: 'auto_cart' | 'manual_code', name: string, rules: CartRules): string {
  return type === 'auto_cart'
    ? `Automatic discount: −${rules.autoCartPercent} % from ${money(rules.autoCartThresholdCents)}`
    : `Code ${name}: −${rules.promoCodePercent} %`;
}

function linesTable(view: CartView, rules: CartRules): string {
  const lines = view.items.map(
    (item) =>
      `<tr class="cart-line" data-product-id="${item.productId}"><td><a href="/product/${item.productId}">${item.name}</a></td><td class="cart-line__price">${money(cents(item.unitPrice))}</td><td class="cart-line__qty">${item.qty}</td><td class="cart-line__total">${money(cents(item.lineTotal))}</td></tr>`,
  );
  const discounts = view.discounts.map(
    (discount) =>
      `<tr class="cart-discount" data-discount-type="${discount.type}"><th scope="row" colspan="3">${discountLabel(discount.type, discount.name, rules)}</th><td>−${money(cents(discount.amount))}</td></tr>`,
  );
  return `<table class="cart-lines">
<thead><tr><th scope="col">Product</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Total</th></tr></thead>
<tbody>
${lines.join('\n')}
</tbody>
<tfoot>
<tr class="cart-subtotal"><th scope="row" colspan="3">Subtotal</th><td>${money(cents(view.subtotal))}</td></tr>
${discounts.join('\n')}
<tr class="cart-total"><th scope="row" colspan="3">Total</th><td>${money(cents(view.total))}</td></tr>
</tfoot>
</table>`;
}

/** The cart page: one visitor's, so it is rendered for every request and never cached. */
export function renderCartPage(view: CartView, csrfToken: string, notice: CartNotice | undefined, rules: CartRules): string {
  const main = `<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li aria-current="page">Cart</li></ol></nav>
<h1>Your cart</h1>
${noticeHtml(notice, rules)}
${view.items.length === 0 ? '<p class="cart-empty">Your cart is empty.</p>' : linesTable(view, rules)}
<form class="promo-code-form" method="post" action="/cart/code">
<input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<label for="promo-code">Promo code</label> <input id="promo-code" type="text" name="code" maxlength="64" autocomplete="off">
<button type="submit">Apply</button>
</form>
<p><a href="/">Continue shopping</a></p>`;
  return layout({ title: 'Your cart', description: 'Your cart at the Demo Shop.', bodyClass: 'page--cart', head: '<meta name="robots" content="noindex">', main }, rules);
}
