/** A one-line progress bar on standard error, drawn only on a terminal (never into --json output or a log file). */
export class Progress {
  private files = 0;
  private filesDone = 0;
  private totalBytes = 0;
  private sentBytes = 0;
  private started = 0;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream | null) {}

  static for(enabled: boolean): Progress {
    return new Progress(enabled && process.stderr.isTTY ? process.stderr : null);
  }

  start(files: number, totalBytes: number): void {
    this.files = files;
    this.totalBytes = totalBytes;
    this.started = Date.now();
    this.draw(true);
  }

  bytes(count: number): void {
    this.sentBytes += count;
    this.draw(false);
  }

  fileDone(): void {
    this.filesDone += 1;
    this.draw(true);
  }

  stop(): void {
    if (this.stream) this.stream.write('\n');
  }

  private draw(force: boolean): void {
    if (!this.stream || (!force && Date.now() - this.lastDraw < 100)) return;
    this.lastDraw = Date.now();
    const share = this.totalBytes > 0 ? Math.min(1, this.sentBytes / this.totalBytes) : this.filesDone / Math.max(1, this.files);
    const width = 24;
    const bar = '='.repeat(Math.round(share * width)).padEnd(width, ' ');
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.sentBytes / seconds : 0;
    const left = rate > 0 ? ` ${Math.ceil((this.totalBytes - this.sentBytes) / rate)} s left` : '';
    this.stream.write(`\r[${bar}] ${this.filesDone}/${this.files} files, ${mib(this.sentBytes)} of ${mib(this.totalBytes)} MiB${left}   `);
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
