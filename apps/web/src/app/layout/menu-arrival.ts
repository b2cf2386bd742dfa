import type { MatMenuTrigger } from '@angular/material/menu';

/** How the stand-in of a menu button was pressed before the menu arrived, if it was. */
export type MenuArrival = 'keyboard' | 'mouse' | null;

/**
 * How a click was made: `detail` is 0 for a click made with Enter or Space. */
export function pressedWith(event: MouseEvent): Exclude<MenuArrival, null> {
  return event.detail === 0 ? 'keyboard' : 'mouse';
}

/**
 * A menu that has just replaced the stand-in button pressed to load it (the press came before the
 * menu existed): opened, its first item focused as Material does for that kind of press; closed,
 * it gives focus back to its (new) button.
 */
export function openOnArrival(trigger: MatMenuTrigger, pressed: MenuArrival): void {
  if (!pressed) return;
  trigger.openMenu();
  trigger.menu?.focusFirstItem(pressed);
}
