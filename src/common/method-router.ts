import FindMyWay, { HTTPMethod } from 'find-my-way';

/**
 * Knows every registered route so that a known path called with another
 * method answers 405 with an Allow header instead of 404.
 */
export class MethodRouter {
  private readonly router = FindMyWay({ ignoreTrailingSlash: true });
  private readonly methods = new Set<HTTPMethod>();

  add(method: string | string[], url: string): void {
    if (url === '*' || url.endsWith('/*')) return;
    for (const m of Array.isArray(method) ? method : [method]) {
      if (m === 'OPTIONS') continue;
      this.router.on(m as HTTPMethod, url, () => undefined);
      this.methods.add(m as HTTPMethod);
    }
  }

  /** Methods allowed on this path; empty when the path is unknown. */
  allowed(path: string): string[] {
    const clean = path.split('?')[0];
    return [...this.methods].filter((m) => this.router.find(m, clean) !== null).sort();
  }
}
