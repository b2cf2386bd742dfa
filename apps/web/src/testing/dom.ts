import type { ComponentFixture } from '@angular/core/testing';

/** The element with `data-testid`, failing the test when it is missing. */
export function byTestId<T extends Element = HTMLElement>(root: ParentNode | ComponentFixture<unknown>, id: string): T {
  const element = queryTestId<T>(root, id);
  if (!element) throw new Error(`No element with data-testid="${id}"`);
  return element;
}

export function queryTestId<T extends Element = HTMLElement>(root: ParentNode | ComponentFixture<unknown>, id: string): T | null {
  return nodeOf(root).querySelector<T>(`[data-testid="${id}"]`);
}

export function allByTestId<T extends Element = HTMLElement>(root: ParentNode | ComponentFixture<unknown>, id: string): T[] {
  return Array.from(nodeOf(root).querySelectorAll<T>(`[data-testid="${id}"]`));
}

/** Types into an input as a user would: value, `input`, then leaving the field. */
export function typeInto(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input'));
  input.dispatchEvent(new Event('blur'));
}

export function text(element: Element | null): string {
  return (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function nodeOf(root: ParentNode | ComponentFixture<unknown>): ParentNode {
  return 'nativeElement' in root ? (root.nativeElement as ParentNode) : root;
}
