import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatToolbarModule } from '@angular/material/toolbar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink, RouterOutlet } from '@angular/router';
import { AuthService } from '../auth/auth.service';
import { ConnectionIndicatorComponent } from '../realtime/connection-indicator.component';
import { LiveConnection } from '../realtime/live-connection';

/** The frame of the signed-in pages: toolbar with the live connection, the user and sign-out. */
@Component({
  selector: 'app-shell',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, MatToolbarModule, MatButtonModule, MatIconModule, MatTooltipModule, ConnectionIndicatorComponent],
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header>
      <mat-toolbar class="toolbar">
        <a class="brand" routerLink="/dashboard" aria-label="Thumbs, dashboard">
          <img src="favicon.svg" alt="" width="28" height="28" />
          <span class="brand-name">Thumbs</span>
        </a>
        <span class="spacer"></span>
        <app-connection-indicator [state]="live.state()" (reconnect)="live.reconnect()" />
        <span class="user" data-testid="user-email" [title]="email()">{{ email() }}</span>
        <button mat-button type="button" class="logout" data-testid="logout-button" aria-label="Sign out" (click)="signOut()">
          <mat-icon svgIcon="logout" />
          <span class="logout-label">Sign out</span>
        </button>
      </mat-toolbar>
    </header>
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
  styleUrl: './shell.component.scss',
})
export class ShellComponent {
  readonly live = inject(LiveConnection);
  private readonly auth = inject(AuthService);

  readonly email = computed(() => this.auth.user()?.email ?? '');

  signOut(): void {
    this.auth.signOut('signed-out');
  }
}
