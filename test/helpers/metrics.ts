/** Reading a Prometheus scrape, as an operator's queries would. */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments left out). */
function samples(text: string): Sample[] {
  const result: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name] = value;
    }
    result.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return result;
}

/** One scrape: its text, and the value of one series (its labels include `labels`). */
export class Scrape {
  constructor(readonly text: string) {}

  /** Every sample of `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Sample[] {
    return samples(this.text).filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /**
   * The value of the one matching sample: 0 for labels not counted yet (no
   * sample), but an error for a metric the scrape does not declare at all.
   */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.all(name, labels);
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: several series`);
    const metric = name.replace(/_(count|sum|bucket)$/, '');
    if (found.length === 0 && !new RegExp(`^# TYPE (${name}|${metric}) `, 'm').test(this.text)) {
      throw new Error(`${name} is not in the scrape`);
    }
    return found[0]?.value ?? 0;
  }
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url, { headers: { connection: 'close' } });
  expect(res.status).toBe(200);
  return new Scrape(await res.text());
}

/** How much each series grew between two scrapes. */
export const grew = (
  before: Scrape,
  after: Scrape,
  name: string,
  labels: Record<string, string> = {},
) => after.value(name, labels) - before.value(name, labels);
