import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { itemsOf } from './api-keys-api.service';

export const WEBHOOK_EVENTS = ['job.completed', 'job.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  createdAt: string;
}

/** The answer to creating a webhook: its signing secret, shown this once. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

/** One attempt to deliver an event (contract). */
export interface WebhookDelivery {
  id: string;
  event: WebhookEvent;
  jobId: string;
  attempt: number;
  status: string;
  responseCode: number | null;
  at: string;
}

/** `/api/webhooks` (contract). */
@Injectable({ providedIn: 'root' })
export class WebhooksApi {
  private readonly http = inject(HttpClient);

  list(): Observable<Webhook[]> {
    return this.http.get<Webhook[] | { items: Webhook[] }>('/api/webhooks').pipe(map(itemsOf));
  }

  create(url: string, events: readonly WebhookEvent[]): Observable<CreatedWebhook> {
    return this.http.post<CreatedWebhook>('/api/webhooks', { url, events });
  }

  remove(id: string): Observable<void> {
    return this.http.delete(`/api/webhooks/${encodeURIComponent(id)}`).pipe(map(() => undefined));
  }

  deliveries(id: string): Observable<WebhookDelivery[]> {
    return this.http
      .get<{ items: WebhookDelivery[] }>(`/api/webhooks/${encodeURIComponent(id)}/deliveries`)
      .pipe(map((answer) => answer.items));
  }
}
