import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatCardModule } from '@angular/material/card';

/** The frame of the sign-in and registration pages: brand, heading, the form, a footer link. */
@Component({
  selector: 'app-auth-card',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatCardModule],
  template: `
    <main class="auth-page" id="main">
      <mat-card class="auth-card" appearance="outlined">
        <mat-card-header>
          <img mat-card-avatar src="favicon.svg" alt="" width="40" height="40" />
          <mat-card-title
            ><h1>{{ heading() }}</h1></mat-card-title
          >
          <mat-card-subtitle>{{ subheading() }}</mat-card-subtitle>
        </mat-card-header>
        <mat-card-content>
          <ng-content />
        </mat-card-content>
        <mat-card-footer class="auth-footer">
          <ng-content select="[footer]" />
        </mat-card-footer>
      </mat-card>
    </main>
  `,
  styles: `
    .auth-page {
      min-height: 100vh;
      min-height: 100dvh;
      display: grid;
      place-items: center;
      padding: 16px;
      box-sizing: border-box;
      background: var(--mat-sys-surface-container-low);
    }
    .auth-card {
      width: min(100%, 420px);
    }
    h1 {
      margin: 0;
      font: var(--mat-sys-headline-small);
    }
    mat-card-content {
      padding-top: 24px;
    }
    .auth-footer {
      padding: 0 16px 16px;
      font: var(--mat-sys-body-medium);
    }
  `,
})
export class AuthCardComponent {
  readonly heading = input.required<string>();
  readonly subheading = input('');
}
