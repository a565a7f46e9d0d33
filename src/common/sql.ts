/**
 * The parameters of a statement assembled from parts: each part asks for its
 * own placeholder, so no part assumes another's numbering.
 */
export class SqlParams {
  readonly values: unknown[];

  constructor(initial: readonly unknown[] = []) {
    this.values = [...initial];
  }

  /** The placeholder (`$n`, with a cast when given) of a new parameter holding `value`. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}
