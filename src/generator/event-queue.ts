/** A binary min-heap of scheduled items ordered by (`at`, insertion order): deterministic ties. */

export interface Scheduled {
  readonly at: number;
}

interface Entry<T> {
  readonly at: number;
  readonly seq: number;
  readonly item: T;
}

export class EventQueue<T extends Scheduled> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** `at` of the earliest item, or +Infinity when empty. */
  peekAt(): number {
    return this.heap.length > 0 ? (this.heap[0] as Entry<T>).at : Number.POSITIVE_INFINITY;
  }

  push(item: T): void {
    const heap = this.heap;
    const entry: Entry<T> = { at: item.at, seq: this.seq++, item };
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry<T>;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Entry<T>;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && before(heap[r] as Entry<T>, heap[l] as Entry<T>) ? r : l;
        const c = heap[child] as Entry<T>;
        if (!before(c, last)) break;
        heap[i] = c;
        i = child;
      }
      heap[i] = last;
    }
    return top.item;
  }

  /** Counts the queued items with `at` in [from, to] that satisfy `test` (O(size)). */
  count(from: number, to: number, test: (item: T) => boolean): number {
    let n = 0;
    for (const e of this.heap) if (e.at >= from && e.at <= to && test(e.item)) n++;
    return n;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
