const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i;

/**
 * The path of a request target, without its query string (it may carry
 * search terms or national ids). An absolute-form target
 * (`GET http://host/path`, which HTTP/1.1 servers must accept) loses its
 * scheme and host: answers and logs repeat the path the route saw, never a
 * host the caller chose.
 */
export function pathOf(url: string): string {
  const path = url.split('?')[0];
  if (path.startsWith('/')) return path;
  const origin = ABSOLUTE_FORM.exec(path);
  return origin ? path.slice(origin[0].length) || '/' : path;
}
