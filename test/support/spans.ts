import type { TestStack } from './stack';

export interface Span {
  jobId: string;
  /** Worker process that ran it. */
  pid: number;
  /** Order of the start among all starts (ties within a millisecond keep log order). */
  seq: number;
  start: number;
  end: number;
}

/** When each job was processed and where, from the workers' JSON log lines. */
export function runSpans(stack: TestStack): Map<string, Span> {
  const entries: { msg: string; jobId: string; time: number; pid: number }[] = [];
  for (const worker of stack.workers) {
    for (const line of worker.lines) {
      if (!line.includes('"jobId"')) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; jobId?: string; time?: number };
        if (entry.msg && entry.jobId && entry.time) entries.push({ msg: entry.msg, jobId: entry.jobId, time: entry.time, pid: worker.pid });
      } catch {
        // not a log line
      }
    }
  }
  entries.sort((a, b) => a.time - b.time);
  const spans = new Map<string, Span>();
  let seq = 0;
  for (const entry of entries) {
    if (entry.msg.startsWith('Processing'))
      spans.set(entry.jobId, { jobId: entry.jobId, pid: entry.pid, seq: seq++, start: entry.time, end: Infinity });
    else if (/ (completed|failed)/.test(entry.msg) && spans.has(entry.jobId)) spans.get(entry.jobId)!.end = entry.time;
  }
  return spans;
}
