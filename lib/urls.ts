// URLs inside k6, which has no URL class: splitting one, and resolving an href, a form
// action or a Location against the page it came from. Pure, so the CLI uses it too.

/** `http://host:port`, the host and the path of an absolute URL (k6 has no URL class). */
export function splitUrl(url: string): { origin: string; host: string; path: string } | null {
  const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(url);
  return m ? { origin: `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}`, host: m[2]!.toLowerCase(), path: m[3] || '/' } : null;
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
