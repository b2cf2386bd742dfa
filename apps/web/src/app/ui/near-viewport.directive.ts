import { afterNextRender, DestroyRef, Directive, ElementRef, inject, input, output } from '@angular/core';

/**
 * Emits `nearViewport` whenever the element comes within `nearViewportMargin` of the visible
 * area (infinite scrolling). Does nothing where IntersectionObserver is missing; pair it with a
 * button that does the same.
 */
@Directive({ selector: '[appNearViewport]' })
export class NearViewportDirective {
  readonly nearViewportMargin = input('400px');
  readonly nearViewport = output<void>();

  constructor() {
    const element = inject<ElementRef<Element>>(ElementRef).nativeElement;
    const destroyRef = inject(DestroyRef);
    afterNextRender(() => {
      if (typeof IntersectionObserver === 'undefined') return;
      const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && this.nearViewport.emit(), {
        rootMargin: this.nearViewportMargin(),
      });
      observer.observe(element);
      destroyRef.onDestroy(() => observer.disconnect());
    });
  }
}
