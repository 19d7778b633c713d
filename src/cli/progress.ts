/**
 * A one-line progress bar on stderr, redrawn at most every 100 ms, only when stderr is a
 * terminal: piped output and CI logs stay clean.
 */
export class ProgressLine {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(enabled = process.stderr.isTTY === true) {
    this.enabled = enabled;
  }

  update(label: string, done: number, total: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(share * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    process.stderr.write(`\r${label} [${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${extra}\u001b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\u001b[K');
    this.shown = false;
  }
}
