import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { ICON_PATHS } from './icons';

/**
 * One of {@link ICON_PATHS} as inline SVG, for the library's tiles: hundreds are created and
 * destroyed per second while the grid scrolls, and Material's `<mat-icon svgIcon>` clones its SVG
 * from the registry, reads the page's location and subscribes per icon. Sized like `mat-icon`
 * (24 px unless its host is styled otherwise), drawn in `currentColor`, hidden from assistive
 * technology (the tile's label says what it shows).
 */
@Component({
  selector: 'app-icon',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { 'aria-hidden': 'true', '[attr.data-icon]': 'name()' },
  template: `<svg viewBox="0 0 24 24" focusable="false"><path [attr.d]="path()" /></svg>`,
  styles: `
    :host {
      display: inline-block;
      flex: none;
      width: 24px;
      height: 24px;
      fill: currentColor;
      vertical-align: middle;
    }
    svg {
      display: block;
      width: 100%;
      height: 100%;
    }
  `,
})
export class IconComponent {
  readonly name = input.required<string>();
  readonly path = computed(() => ICON_PATHS[this.name()] ?? '');
}
