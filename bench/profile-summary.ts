/**
 * Summarises .cpuprofile files: where self time goes, by function and by package.
 *   node -r @swc-node/register bench/profile-summary.ts bench-output/profiles/api-*.cpuprofile
 */
import * as fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  if (!url) return '(native/idle)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.startsWith('node:') || !url.includes('/')) return `node:${url.replace(/^node:/, '').split('/')[0]}`;
  if (url.includes('dist/apps/')) return 'app bundle';
  return url;
}

export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms`;
  const lines = [`${file}: ${(total / 1000).toFixed(0)} ms sampled`, '  by package:'];
  for (const [name, micros] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`    ${pct(micros)}  ${name}`);
  lines.push('  by function (self):');
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(micros)}  ${name}`);
  return lines.join('\n');
}

if (require.main === module) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${summarise(file)}\n\n`);
}
