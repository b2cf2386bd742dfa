import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import type { AuthResult } from '@app/shared';
import { Observable } from 'rxjs';

export interface Credentials {
  email: string;
  password: string;
}

/** The auth routes of the REST API. */
@Injectable({ providedIn: 'root' })
export class AuthApi {
  private readonly http = inject(HttpClient);

  login(credentials: Credentials): Observable<AuthResult> {
    return this.http.post<AuthResult>('/api/auth/login', credentials);
  }

  register(credentials: Credentials): Observable<AuthResult> {
    return this.http.post<AuthResult>('/api/auth/register', credentials);
  }

  /** A new access token for the session's HttpOnly refresh cookie (which rotates). */
  refresh(): Observable<AuthResult> {
    return this.http.post<AuthResult>('/api/auth/refresh', {});
  }

  /** Revokes the session's refresh token. */
  logout(): Observable<unknown> {
    return this.http.post('/api/auth/logout', {});
  }
}
