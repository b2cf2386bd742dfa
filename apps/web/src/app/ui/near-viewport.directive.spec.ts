import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { NearViewportDirective } from './near-viewport.directive';

@Component({
  imports: [NearViewportDirective],
  template: `<div appNearViewport nearViewportMargin="200px" (nearViewport)="count.set(count() + 1)"></div>`,
})
class HostComponent {
  readonly count = signal(0);
}

describe('NearViewportDirective', () => {
  afterEach(() => {
    delete (globalThis as { IntersectionObserver?: unknown }).IntersectionObserver;
  });

  it('emits each time the element comes near the viewport, and stops observing when destroyed', async () => {
    const observers: { callback: IntersectionObserverCallback; options?: IntersectionObserverInit; disconnected: boolean }[] = [];
    (globalThis as { IntersectionObserver?: unknown }).IntersectionObserver = class {
      readonly record: (typeof observers)[number];
      constructor(callback: IntersectionObserverCallback, options?: IntersectionObserverInit) {
        this.record = { callback, options, disconnected: false };
        observers.push(this.record);
      }
      observe(): void {}
      disconnect(): void {
        this.record.disconnected = true;
      }
    };
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    expect(observers).toHaveLength(1);
    expect(observers[0].options?.rootMargin).toBe('200px');

    const entry = (isIntersecting: boolean) => [{ isIntersecting }] as IntersectionObserverEntry[];
    observers[0].callback(entry(true), {} as IntersectionObserver);
    observers[0].callback(entry(false), {} as IntersectionObserver);
    observers[0].callback(entry(true), {} as IntersectionObserver);
    expect(fixture.componentInstance.count()).toBe(2);

    fixture.destroy();
    expect(observers[0].disconnected).toBe(true);
  });

  it('does nothing where IntersectionObserver is missing', async () => {
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    expect(fixture.componentInstance.count()).toBe(0);
  });
});
