import { afterNextRender, ChangeDetectionStrategy, Component, input, output, viewChild } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatMenuModule, MatMenuTrigger } from '@angular/material/menu';
import { RouterLink } from '@angular/router';
import { LazyTooltipDirective } from '../ui/lazy-tooltip.directive';
import { MenuArrival, openOnArrival } from './menu-arrival';

/**
 * The account button and its menu (who is signed in, API keys and webhooks, Sign out). The shell
 * loads it on the first press (click, Enter or Space) of its stand-in button (`@defer`): Material's menu and the
 * CDK overlay are not part of the first screen. `arrival` opens it at once when the stand-in
 * was pressed to load it.
 */
@Component({
  selector: 'app-account-menu',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, MatMenuModule, RouterLink, LazyTooltipDirective],
  template: `
    <button
      type="button"
      class="app-icon-button"
      data-testid="account-menu"
      [attr.aria-label]="'Account: ' + email()"
      appTooltip="Account"
      [matMenuTriggerFor]="account"
    >
      <mat-icon svgIcon="account_circle" />
    </button>
    <mat-menu #account="matMenu" xPosition="before">
      <button mat-menu-item type="button" disabled class="account-email" data-testid="user-email" [title]="email()">
        {{ email() }}
      </button>
      @if (settings()) {
        <a mat-menu-item routerLink="/settings" data-testid="nav-settings">
          <mat-icon svgIcon="key" />
          API keys and webhooks
        </a>
      }
      <button mat-menu-item type="button" data-testid="logout-button" (click)="signOut.emit()">
        <mat-icon svgIcon="logout" />
        Sign out
      </button>
    </mat-menu>
  `,
  styles: `
    .account-email {
      max-width: 280px;
      padding: 8px 16px;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      color: var(--mat-sys-on-surface-variant);
      font: var(--mat-sys-body-medium);
    }
  `,
})
export class AccountMenuComponent {
  readonly email = input('');
  readonly settings = input(false);
  /** How its stand-in was pressed to load it (then it opens at once), if it was. */
  readonly arrival = input<MenuArrival>(null);
  readonly signOut = output<void>();

  private readonly trigger = viewChild.required(MatMenuTrigger);

  constructor() {
    afterNextRender(() => openOnArrival(this.trigger(), this.arrival()));
  }
}
