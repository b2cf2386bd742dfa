import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';

export const API_KEY_SCOPES = ['read', 'upload', 'delete'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An API key as listed (contract: never the key itself). */
export interface ApiKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  lastUsedAt: string | null;
}

/** The answer to creating a key: the key, shown this once. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** `/api/api-keys` (contract). */
@Injectable({ providedIn: 'root' })
export class ApiKeysApi {
  private readonly http = inject(HttpClient);

  list(): Observable<ApiKey[]> {
    return this.http.get<ApiKey[] | { items: ApiKey[] }>('/api/api-keys').pipe(map(itemsOf));
  }

  create(name: string, scopes: readonly ApiKeyScope[]): Observable<CreatedApiKey> {
    return this.http.post<CreatedApiKey>('/api/api-keys', { name, scopes });
  }

  revoke(id: string): Observable<void> {
    return this.http.delete(`/api/api-keys/${encodeURIComponent(id)}`).pipe(map(() => undefined));
  }
}

/** A list answered as an array or as `{ items }` (the contract says "list"). */
export function itemsOf<T>(answer: T[] | { items: T[] }): T[] {
  return Array.isArray(answer) ? answer : answer.items;
}
