import * as fs from 'node:fs';

/** Resident and peak-resident memory of a process, in bytes, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Samples a process's RSS every `intervalMs` until stopped; keeps the peak and the samples. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  readonly samples: { t: number; rss: number }[] = [];
  peak = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 20,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): { peak: number; samples: number } {
    clearInterval(this.timer);
    this.sample();
    return { peak: this.peak, samples: this.samples.length };
  }

  private sample(): void {
    try {
      const { rss } = memoryOf(this.pid);
      this.samples.push({ t: performance.now(), rss });
      this.peak = Math.max(this.peak, rss);
    } catch {
      // the process is gone
    }
  }
}

export const MiB = 1024 * 1024;

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12]: utime and stime (the 14th and 15th fields of the line), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

const CLOCK_TICKS = 100;

/** CPU used by each of a set of processes over a phase, with the phase's wall time. */
export class CpuMeter {
  private readonly start: Map<string, number>;
  private readonly startedAt = performance.now();

  constructor(private readonly pids: Record<string, number>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, cpuMsOf(pid)]));
  }

  stop(): { wallMs: number; cpuMs: Record<string, number> } {
    const cpuMs: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) cpuMs[name] = Math.round(cpuMsOf(pid) - (this.start.get(name) ?? 0));
    return { wallMs: Math.round(performance.now() - this.startedAt), cpuMs };
  }
}

/**
 * What a process's resident memory is made of, in bytes: VmRSS split into anonymous (malloc'd and
 * V8 memory) and file-backed (mapped code and libraries) from /proc/<pid>/status, and, when the
 * process serves prom-client's default metrics at `metricsUrl`, V8's heap (used, total) and the
 * external memory V8 is told about (Buffers and ArrayBuffers, including sharp's output buffers).
 * What is anonymous but neither heap nor external is native memory: libvips' and the allocator's.
 */
export interface MemoryBreakdown {
  rss: number;
  anon: number;
  file: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export async function memoryBreakdownOf(pid: number, metricsUrl?: string): Promise<MemoryBreakdown> {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const result: MemoryBreakdown = {
    rss: kib('VmRSS'),
    anon: kib('RssAnon'),
    file: kib('RssFile'),
    heapUsed: Number.NaN,
    heapTotal: Number.NaN,
    external: Number.NaN,
  };
  if (metricsUrl) {
    try {
      const text = await (await fetch(metricsUrl)).text();
      const metric = (name: string): number => Number(new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
      result.heapUsed = metric('nodejs_heap_size_used_bytes');
      result.heapTotal = metric('nodejs_heap_size_total_bytes');
      result.external = metric('nodejs_external_memory_bytes');
    } catch {
      // no metrics: the /proc figures alone
    }
  }
  return result;
}

/** Least-squares slope of `values` against their index (per step). */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return Number.NaN;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((sum, value) => sum + value, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((value, index) => {
    num += (index - meanX) * (value - meanY);
    den += (index - meanX) ** 2;
  });
  return num / den;
}
