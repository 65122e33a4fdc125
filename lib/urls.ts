// URLs inside k6, which has no URL class: splitting one, and resolving an href, a form
// action or a Location against the page it came from. Pure, so the CLI uses it too.

/**
 * `http://host:port`, the host and the path of an absolute URL (k6 has no URL class). With
 * indexOf rather than a regular expression: the journey splits a URL for every request, and
 * in k6's runtime a capturing, case-insensitive match costs more than the rest of the step.
 */
export function splitUrl(url: string): { origin: string; host: string; path: string } | null {
  const sep = url.indexOf('://');
  if (sep !== 4 && sep !== 5) return null;
  const scheme = url.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  const from = sep + 3;
  // The authority ends at the first '/', '?' or '#' (three native searches beat a loop over its characters).
  let end = url.length;
  const slash = url.indexOf('/', from);
  if (slash !== -1) end = slash;
  const query = url.indexOf('?', from);
  if (query !== -1 && query < end) end = query;
  const hash = url.indexOf('#', from);
  if (hash !== -1 && hash < end) end = hash;
  if (end === from) return null;
  const path = url.slice(end);
  if (path.indexOf('\n') !== -1 || path.indexOf('\r') !== -1 || path.indexOf('\u2028') !== -1 || path.indexOf('\u2029') !== -1) return null;
  const host = url.slice(from, end).toLowerCase();
  return { origin: `${scheme}://${host}`, host, path: path || '/' };
}

/** `ref` (an href, an action, a Location) resolved against the URL of the page it came from. */
export function resolveUrl(base: string, ref: string): string {
  if (/^https?:\/\//i.test(ref)) return ref;
  const b = splitUrl(base);
  if (!b) return ref;
  if (ref.startsWith('//')) return `${b.origin.split(':')[0]}:${ref}`;
  if (ref.startsWith('/')) return b.origin + ref;
  const path = b.path.replace(/[?#].*$/, '');
  if (ref === '' || ref.startsWith('#')) return b.origin + b.path.replace(/#.*$/, '');
  if (ref.startsWith('?')) return b.origin + path + ref;
  const parts = path.slice(0, path.lastIndexOf('/') + 1).split('/');
  parts.pop();
  for (const piece of ref.split('/')) {
    if (piece === '..') {
      if (parts.length > 1) parts.pop();
    } else if (piece !== '.') parts.push(piece);
  }
  return b.origin + parts.join('/');
}
