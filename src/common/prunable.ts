/**
 * A service that keeps its own tables from growing without bound. The
 * maintenance module calls every one of them on its interval; each answers
 * how many rows it removed, by table. Safe to run on every instance at once.
 */
export interface Prunable {
  prune(): Promise<Record<string, number>>;
}
