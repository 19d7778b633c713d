import type { PlannedEvent } from './stay-plan.js';

/**
 * Planned events by time, a binary heap. Ties keep the order events were planned in, so a lead's
 * events at the same millisecond are handled as planned and every run orders them alike.
 */
export class EventQueue {
  private readonly heap: { e: PlannedEvent; n: number }[] = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  push(e: PlannedEvent): void {
    const h = this.heap;
    h.push({ e, n: this.counter++ });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  peekAt(): number | null {
    return this.heap[0]?.e.at ?? null;
  }

  pop(): PlannedEvent | null {
    const h = this.heap;
    const top = h[0];
    if (!top) return null;
    const last = h.pop();
    if (last && h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top.e;
  }

  /** Removes and returns every event before `until`, earliest first. */
  popBefore(until: number): PlannedEvent[] {
    const out: PlannedEvent[] = [];
    for (let at = this.peekAt(); at !== null && at < until; at = this.peekAt()) {
      const e = this.pop();
      if (e) out.push(e);
    }
    return out;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    if (!x || !y) return false;
    return x.e.at < y.e.at || (x.e.at === y.e.at && x.n < y.n);
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a];
    const y = h[b];
    if (!x || !y) return;
    h[a] = y;
    h[b] = x;
  }
}
