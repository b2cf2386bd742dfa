import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { LazyTooltipDirective } from './lazy-tooltip.directive';

@Component({
  imports: [LazyTooltipDirective],
  template: `
    <button type="button" id="same" aria-label="Grid" appTooltip="Grid">G</button>
    <span id="other" role="img" aria-label="Status: Failed" [appTooltip]="description()">Failed</span>
  `,
})
class HostComponent {
  readonly description = signal('The file could not be read.');
}

describe('LazyTooltipDirective', () => {
  it('describes its element until Material’s tooltip is loaded, then hands over to it', async () => {
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    const same = root.querySelector<HTMLElement>('#same')!;
    const other = root.querySelector<HTMLElement>('#other')!;
    // Not repeated when it says what the label says; a description otherwise, kept up to date.
    expect(same.hasAttribute('aria-description')).toBe(false);
    expect(other.getAttribute('aria-description')).toBe('The file could not be read.');
    fixture.componentInstance.description.set('Retrying will not help.');
    await fixture.whenStable();
    expect(other.getAttribute('aria-description')).toBe('Retrying will not help.');
    expect(other.classList).toContain('mat-mdc-tooltip-trigger');

    // The first pointer on it loads Material's tooltip, which describes it from then on.
    other.dispatchEvent(new MouseEvent('mouseenter'));
    for (let i = 0; i < 50 && other.hasAttribute('aria-description'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await fixture.whenStable();
    expect(other.hasAttribute('aria-description')).toBe(false);
    const describedBy = other.getAttribute('aria-describedby');
    expect(describedBy).toBeTruthy();
    expect(document.getElementById(describedBy!)?.textContent).toBe('Retrying will not help.');

    // Its message follows the input, and it is taken down with its element.
    fixture.componentInstance.description.set('Queued again.');
    await fixture.whenStable();
    await fixture.whenStable();
    expect(document.getElementById(other.getAttribute('aria-describedby')!)?.textContent).toBe('Queued again.');
    fixture.destroy();
    expect(document.body.textContent).not.toContain('Queued again.');
  });
});
