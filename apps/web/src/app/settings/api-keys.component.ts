import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { filter, from, switchMap } from 'rxjs';
import { describeApiError } from '../http/api-error';
import type { ConfirmDialogData } from '../jobs/confirm-dialog.component';
import { Overlays } from '../ui/overlays';
import { API_KEY_SCOPES, ApiKey, ApiKeyScope, ApiKeysApi, CreatedApiKey } from './api-keys-api.service';
import { SecretRevealComponent } from './secret-reveal.component';
import { toggled } from './toggled';

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const SCOPE_TEXT: Readonly<Record<ApiKeyScope, string>> = {
  read: 'Read (list jobs, download, live updates)',
  upload: 'Upload (and retry)',
  delete: 'Delete',
};
const MAX_NAME = 100;

/** API keys for scripts and other programs: make one with scopes (shown once, to copy), see when each was last used, revoke. */
@Component({
  selector: 'app-api-keys',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, SecretRevealComponent],
  templateUrl: './api-keys.component.html',
  styleUrl: './settings-section.scss',
})
export class ApiKeysComponent {
  private readonly api = inject(ApiKeysApi);
  private readonly overlays = inject(Overlays);

  readonly keys = signal<ApiKey[] | null>(null);
  readonly error = signal<string | null>(null);
  readonly created = signal<CreatedApiKey | null>(null);
  readonly pending = signal(false);
  readonly name = signal('');
  readonly scopes = signal<ReadonlySet<ApiKeyScope>>(new Set(['read', 'upload']));
  readonly scopeOptions = API_KEY_SCOPES.map((scope) => ({ scope, label: SCOPE_TEXT[scope] }));
  readonly maxName = MAX_NAME;
  readonly canCreate = computed(() => !this.pending() && this.name().trim() !== '' && this.scopes().size > 0);
  readonly rows = computed(() =>
    (this.keys() ?? []).map((key) => ({
      ...key,
      scopesText: key.scopes.join(', '),
      created: TIME.format(new Date(key.createdAt)),
      lastUsed: key.lastUsedAt ? TIME.format(new Date(key.lastUsedAt)) : 'Never',
    })),
  );

  constructor() {
    this.load();
  }

  load(): void {
    this.api.list().subscribe({
      next: (keys) => this.keys.set(keys),
      error: (error: unknown) => this.error.set(describeApiError(error).message),
    });
  }

  toggleScope(scope: ApiKeyScope, on: boolean): void {
    this.scopes.update((scopes) => toggled(scopes, scope, on));
  }

  create(event: Event): void {
    event.preventDefault();
    if (!this.canCreate()) return;
    this.pending.set(true);
    this.error.set(null);
    this.api.create(this.name().trim(), [...this.scopes()]).subscribe({
      next: (key) => {
        this.pending.set(false);
        this.created.set(key);
        this.name.set('');
        this.keys.update((keys) => [...(keys ?? []), withoutKey(key)]);
      },
      error: (error: unknown) => {
        this.pending.set(false);
        this.error.set(describeApiError(error).message);
      },
    });
  }

  revoke(key: ApiKey): void {
    const data: ConfirmDialogData = {
      title: 'Revoke this key?',
      message: `Programs using “${key.name}” will be refused from now on. This cannot be undone.`,
      confirmLabel: 'Revoke',
    };
    from(this.overlays.confirm(data))
      .pipe(
        filter((confirmed) => confirmed),
        switchMap(() => this.api.revoke(key.id)),
      )
      .subscribe({
        next: () => this.keys.update((keys) => (keys ?? []).filter((each) => each.id !== key.id)),
        error: (error: unknown) => this.error.set(describeApiError(error).message),
      });
  }
}

function withoutKey({ id, name, scopes, createdAt, lastUsedAt }: CreatedApiKey): ApiKey {
  return { id, name, scopes, createdAt, lastUsedAt };
}
