import { inject, Injectable, Injector } from '@angular/core';
import type { ConfirmDialogData } from '../jobs/confirm-dialog.component';

/** How long a message stays, and one with an action (Undo). */
const MESSAGE_MS = 5000;

/**
 * Confirmations and messages, with Material's dialog and snack bar loaded on first use: the
 * library's first load carries neither (they and their overlay code are ~45 kB of JavaScript).
 */
@Injectable({ providedIn: 'root' })
export class Overlays {
  private readonly injector = inject(Injector);

  /** Asks with the app's confirmation dialog; true only when the confirm button was pressed. */
  async confirm(data: ConfirmDialogData): Promise<boolean> {
    const [{ MatDialog }, { ConfirmDialogComponent }] = await Promise.all([
      import('@angular/material/dialog'),
      import('../jobs/confirm-dialog.component'),
    ]);
    const dialog = this.injector
      .get(MatDialog)
      .open<
        InstanceType<typeof ConfirmDialogComponent>,
        ConfirmDialogData,
        boolean
      >(ConfirmDialogComponent, { data, autoFocus: 'first-tabbable', restoreFocus: true });
    return new Promise((resolve) => dialog.afterClosed().subscribe((confirmed) => resolve(confirmed === true)));
  }

  /** A message at the bottom; with `action`, resolves true when it was pressed. */
  async notify(message: string, action = 'Close', duration = MESSAGE_MS): Promise<boolean> {
    const { MatSnackBar } = await import('@angular/material/snack-bar');
    const snack = this.injector.get(MatSnackBar).open(message, action, { duration });
    return new Promise((resolve) => {
      snack.onAction().subscribe(() => resolve(true));
      snack.afterDismissed().subscribe(({ dismissedByAction }) => resolve(dismissedByAction));
    });
  }
}
