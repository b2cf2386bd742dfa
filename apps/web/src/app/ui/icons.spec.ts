import { TestBed } from '@angular/core/testing';
import { MatIconRegistry } from '@angular/material/icon';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { ICON_PATHS, provideAppIcons } from './icons';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|html)$/.test(name) && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('provideAppIcons', () => {
  it('registers every icon as an inline SVG', async () => {
    TestBed.configureTestingModule({ providers: [provideAppIcons()] });
    const registry = TestBed.inject(MatIconRegistry);
    for (const name of Object.keys(ICON_PATHS)) {
      const svg = await firstValueFrom(registry.getNamedSvgIcon(name));
      expect(svg.getAttribute('viewBox')).toBe('0 0 24 24');
    }
  });

  it('has every icon the templates name', () => {
    const app = join(__dirname, '..');
    const named = sources(app).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/svgIcon="([a-z_]+)"/g)].map((match) => match[1]));
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) expect(Object.keys(ICON_PATHS)).toContain(name);
  });
});
