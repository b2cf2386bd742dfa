import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CACHE_DIR = path.join(os.tmpdir(), 'thumbs-fixture-cache');

/**
 * A generated fixture, made once and kept by its recipe: `recipe` names everything that decides the
 * bytes (tool, arguments, source description), so a changed recipe makes a new file and an unchanged
 * one is read back instead of being encoded again (x265 and libaom take seconds per file).
 */
export async function cachedFixture(recipe: string, make: () => Promise<Buffer>): Promise<Buffer> {
  const key = createHash('sha256').update(recipe).digest('hex').slice(0, 32);
  const file = path.join(CACHE_DIR, key);
  try {
    return readFileSync(file);
  } catch {
    const data = await make();
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, data);
    renameSync(partial, file);
    return data;
  }
}
