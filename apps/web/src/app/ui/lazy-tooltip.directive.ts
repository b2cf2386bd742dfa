import { afterRenderEffect, DestroyRef, Directive, ElementRef, inject, Injector, input, runInInjectionContext } from '@angular/core';
import type { MatTooltip } from '@angular/material/tooltip';

/**
 * Material's tooltip, loaded when the pointer first enters its element (or focus or a touch
 * reaches it): the tooltip, the CDK overlay and the parts of the CDK a11y they need are ≈ 12 kB
 * (brotli) that the first screen does not need until someone points at something.
 *
 * Until then the text is the element's `aria-description` (unless it repeats the element's
 * `aria-label`), so screen readers get it as they get Material's `aria-describedby`, which takes
 * over once the tooltip is loaded. The first hover or keyboard focus shows the tooltip as soon as
 * it is loaded; later ones are Material's own.
 */
@Directive({
  selector: '[appTooltip]',
  host: {
    class: 'mat-mdc-tooltip-trigger',
    '(mouseenter)': 'load()',
    '(focusin)': 'load()',
    '(touchstart)': 'load()',
  },
})
export class LazyTooltipDirective {
  /** The tooltip's text; empty for none. */
  readonly appTooltip = input<string | null | undefined>('');

  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly injector = inject(Injector);
  private tooltip: MatTooltip | null = null;
  private loading = false;
  private destroyed = false;

  constructor() {
    afterRenderEffect({
      write: () => {
        const message = this.appTooltip() ?? '';
        if (this.tooltip) this.tooltip.message = message;
        else this.describe(message);
      },
    });
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      this.tooltip?.ngOnDestroy();
      this.tooltip = null;
    });
  }

  /** Loads Material's tooltip once and attaches it to this element, as if it had been there. */
  load(): void {
    if (this.loading) return;
    this.loading = true;
    void import('@angular/material/tooltip').then(({ MatTooltip }) => {
      if (this.destroyed) return;
      const element = this.host.nativeElement;
      element.removeAttribute('aria-description');
      // Material's directive takes its element, view container and renderer from this element's injector.
      const tooltip = runInInjectionContext(this.injector, () => new MatTooltip());
      tooltip.message = this.appTooltip() ?? '';
      tooltip.ngAfterViewInit();
      this.tooltip = tooltip;
      // The event that loaded it came before its listeners: show it now if it is still wanted, but
      // not over the menu this element has opened meanwhile (its overlay, newer, would take the
      // Escape meant for the menu).
      const wanted = element.matches(':hover') || element.matches(':focus-visible');
      if (wanted && element.getAttribute('aria-expanded') !== 'true') tooltip.show();
    });
  }

  private describe(message: string): void {
    const element = this.host.nativeElement;
    const label = element.getAttribute('aria-label')?.trim() ?? '';
    const text = message.trim();
    if (text && text !== label) element.setAttribute('aria-description', text);
    else element.removeAttribute('aria-description');
  }
}
