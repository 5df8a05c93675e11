/**
 * A bounded memory of recent answers by request id (oldest forgotten first), so a request
 * delivered again is answered with the result it already had, without doing anything.
 */
export class Recent<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly limit = 1_000) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
