// Which of a page's forms adds to the cart, which takes a promo code, which logs in:
// from their action, their fields and their buttons, in the languages shops use most.
import type { FormField, Page, PageForm } from './page.ts';

const ADD_TO_CART_TEXT = /add to (cart|basket|bag)|ajouter au (panier|caddie)|in den warenkorb|in winkelwagen|aggiungi al carrello|añadir al carrito|agregar al carrito|adicionar ao carrinho|dodaj do koszyka|lägg i varukorgen|^buy( now)?$|^acheter$|^kaufen$/i;
const ADD_TO_CART_ACTION = /\/(cart|basket|panier|warenkorb)\/(add|ajouter)\b|\/cart\/add(\.js)?$|\/checkout\/cart\/add\b|\/checkout\/line-item\/add$|[?&](add-to-cart|add_to_cart|addToCart)=|\/add[-_]?to[-_]?cart\b|\/api\/cart\/items$/i;
const ADD_TO_CART_FIELD = /^(add-to-cart|add_to_cart|id_product|product|product_id|productId|variant_id|lineItems\[.+\]\[id\]|id)$/;
const CODE_FIELD = /(coupon|voucher|promo|discount|gutschein|rabatt|code[-_ ]?promo|bon|cupon|cupom|sconto|kod)/i;
const CODE_ACTION = /coupon|voucher|promo|discount|gutschein|rabatt/i;
const QUANTITY_FIELD = /^(qty|quantity|quantite|quantité|menge|lineItems\[.+\]\[quantity\])$/i;

export interface FormRole {
  form: PageForm;
  /** Why this form: `action /fr/basket/add/1/; button "Ajouter au panier"`. */
  evidence: string[];
}

function path(form: PageForm): string {
  const u = new URL(form.action);
  return u.pathname + u.search;
}

export function addToCartForms(page: Page): FormRole[] {
  const out: FormRole[] = [];
  for (const form of page.forms) {
    const evidence: string[] = [];
    if (ADD_TO_CART_ACTION.test(path(form))) evidence.push(`action ${path(form)}`);
    const button = form.buttons.find((b) => ADD_TO_CART_TEXT.test(b.text) || b.name === 'add-to-cart' || b.name === 'add');
    if (button && (ADD_TO_CART_TEXT.test(button.text) || button.name === 'add-to-cart')) evidence.push(`button "${button.text || button.name}"`);
    if (/add[-_]?to[-_]?(cart|basket)|product[-_]form|buy[-_]widget|data-type=add-to-cart-form/i.test(form.attributes)) evidence.push(`form ${form.attributes.split(' ').filter((a) => /cart|basket|product|buy/i.test(a)).join(' ')}`);
    const productField = form.fields.find((f) => ADD_TO_CART_FIELD.test(f.name));
    if (productField && evidence.length > 0) evidence.push(`field ${productField.name}=${productField.value}`);
    // Search and newsletter forms are never it, whatever their button says.
    if (form.method === 'GET' && !ADD_TO_CART_ACTION.test(path(form))) continue;
    const byAction = evidence.some((e) => e.startsWith('action'));
    const byButton = evidence.some((e) => e.startsWith('button'));
    if (byAction || (byButton && form.method === 'POST') || evidence.length >= 2) out.push({ form, evidence });
  }
  return out;
}

export function quantityField(form: PageForm): FormField | undefined {
  return form.fields.find((f) => QUANTITY_FIELD.test(f.name));
}

/** The text input where the code goes, in a form that takes a promo code. */
export function codeInput(form: PageForm): FormField | undefined {
  return form.fields.find((f) => !f.hidden && ['text', 'search', ''].includes(f.type) && (CODE_FIELD.test(f.name) || CODE_FIELD.test(f.id) || CODE_FIELD.test(f.placeholder) || CODE_FIELD.test(f.label) || (f.name === 'code' && CODE_ACTION.test(path(form) + form.attributes))));
}

export function codeForms(page: Page): FormRole[] {
  const out: FormRole[] = [];
  for (const form of page.forms) {
    if (form.method !== 'POST' && !CODE_ACTION.test(path(form))) continue;
    const input = codeInput(form);
    if (!input) continue;
    const evidence = [`field ${input.name}${input.placeholder ? ` ("${input.placeholder}")` : ''}`];
    if (CODE_ACTION.test(path(form))) evidence.unshift(`action ${path(form)}`);
    if (CODE_ACTION.test(form.attributes)) evidence.push(`form ${form.attributes.split(' ').filter((a) => CODE_ACTION.test(a)).join(' ')}`);
    out.push({ form, evidence });
  }
  return out;
}

export function loginForms(page: Page): PageForm[] {
  return page.forms.filter((f) => f.fields.some((x) => x.type === 'password'));
}

/** Hidden fields that look like anti-forgery tokens: read from the page on every iteration. */
export const TOKEN_FIELD = /csrf|token|nonce|form_key|authenticity|_wpnonce|xsrf|__RequestVerification/i;
