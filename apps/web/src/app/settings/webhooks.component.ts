import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { RouterLink } from '@angular/router';
import { filter, from, switchMap } from 'rxjs';
import { describeApiError } from '../http/api-error';
import type { ConfirmDialogData } from '../jobs/confirm-dialog.component';
import { Overlays } from '../ui/overlays';
import { SecretRevealComponent } from './secret-reveal.component';
import { toggled } from './toggled';
import { CreatedWebhook, Webhook, WEBHOOK_EVENTS, WebhookDelivery, WebhookEvent, WebhooksApi } from './webhooks-api.service';

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const EVENT_TEXT: Readonly<Record<WebhookEvent, string>> = { 'job.completed': 'A job is done', 'job.failed': 'A job failed' };

interface DeliveryLog {
  readonly loading: boolean;
  readonly error: string | null;
  readonly items: readonly (WebhookDelivery & { when: string })[];
}

/**
 * Webhooks: URLs told when a job is done or failed (signed Standard Webhooks; the secret is shown
 * once), each with the log of its deliveries.
 */
@Component({
  selector: 'app-webhooks',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, RouterLink, SecretRevealComponent],
  templateUrl: './webhooks.component.html',
  styleUrl: './settings-section.scss',
})
export class WebhooksComponent {
  private readonly api = inject(WebhooksApi);
  private readonly overlays = inject(Overlays);

  readonly hooks = signal<Webhook[] | null>(null);
  readonly error = signal<string | null>(null);
  readonly created = signal<CreatedWebhook | null>(null);
  readonly pending = signal(false);
  readonly url = signal('');
  readonly events = signal<ReadonlySet<WebhookEvent>>(new Set(WEBHOOK_EVENTS));
  readonly logs = signal<ReadonlyMap<string, DeliveryLog>>(new Map());
  readonly eventOptions = WEBHOOK_EVENTS.map((event) => ({ event, label: EVENT_TEXT[event] }));
  readonly canCreate = computed(() => !this.pending() && /^https?:\/\/\S+$/i.test(this.url().trim()) && this.events().size > 0);
  readonly rows = computed(() => (this.hooks() ?? []).map((hook) => ({ ...hook, created: TIME.format(new Date(hook.createdAt)) })));

  constructor() {
    this.api.list().subscribe({
      next: (hooks) => this.hooks.set(hooks),
      error: (error: unknown) => this.error.set(describeApiError(error).message),
    });
  }

  toggleEvent(event: WebhookEvent, on: boolean): void {
    this.events.update((events) => toggled(events, event, on));
  }

  create(event: Event): void {
    event.preventDefault();
    if (!this.canCreate()) return;
    this.pending.set(true);
    this.error.set(null);
    this.api.create(this.url().trim(), [...this.events()]).subscribe({
      next: (hook) => {
        this.pending.set(false);
        this.created.set(hook);
        this.url.set('');
        const { id, url, events, createdAt } = hook;
        this.hooks.update((hooks) => [...(hooks ?? []), { id, url, events, createdAt }]);
      },
      error: (error: unknown) => {
        this.pending.set(false);
        this.error.set(describeApiError(error).message);
      },
    });
  }

  /** Shows (reading it again) or hides the delivery log of a webhook. */
  toggleLog(hook: Webhook): void {
    if (this.logs().has(hook.id)) {
      this.setLog(hook.id, null);
      return;
    }
    this.setLog(hook.id, { loading: true, error: null, items: [] });
    this.api.deliveries(hook.id).subscribe({
      next: (items) =>
        this.setLog(hook.id, {
          loading: false,
          error: null,
          items: items.map((item) => ({ ...item, when: TIME.format(new Date(item.at)) })),
        }),
      error: (error: unknown) => this.setLog(hook.id, { loading: false, error: describeApiError(error).message, items: [] }),
    });
  }

  remove(hook: Webhook): void {
    const data: ConfirmDialogData = {
      title: 'Delete this webhook?',
      message: `${hook.url} will not be told about jobs any more.`,
      confirmLabel: 'Delete',
    };
    from(this.overlays.confirm(data))
      .pipe(
        filter((confirmed) => confirmed),
        switchMap(() => this.api.remove(hook.id)),
      )
      .subscribe({
        next: () => {
          this.hooks.update((hooks) => (hooks ?? []).filter((each) => each.id !== hook.id));
          this.setLog(hook.id, null);
        },
        error: (error: unknown) => this.error.set(describeApiError(error).message),
      });
  }

  private setLog(id: string, log: DeliveryLog | null): void {
    this.logs.update((logs) => {
      const next = new Map(logs);
      if (log) next.set(id, log);
      else next.delete(id);
      return next;
    });
  }
}
