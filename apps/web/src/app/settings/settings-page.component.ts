import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { ServerFeatures } from '../http/server-features';
import { ApiKeysComponent } from './api-keys.component';
import { WebhooksComponent } from './webhooks.component';

/** /settings: API keys and webhooks, each where the server has them. */
@Component({
  selector: 'app-settings-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ApiKeysComponent, WebhooksComponent],
  template: `
    <h1>API keys and webhooks</h1>
    @if (features.loaded()) {
      @if (features.apiKeys()) {
        <app-api-keys />
      }
      @if (features.webhooks()) {
        <app-webhooks />
      }
      @if (!features.apiKeys() && !features.webhooks()) {
        <p class="none" data-testid="settings-unavailable">This server does not offer API keys or webhooks yet.</p>
      }
    }
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      gap: 24px;
      width: min(100%, 960px);
      margin: 0 auto;
      padding: 24px 16px 96px;
      box-sizing: border-box;
    }
    h1 {
      margin: 0;
      font: var(--mat-sys-headline-small);
    }
    .none {
      color: var(--mat-sys-on-surface-variant);
    }
  `,
})
export class SettingsPageComponent {
  readonly features = inject(ServerFeatures);
}
