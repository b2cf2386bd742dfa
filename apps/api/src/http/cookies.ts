import type { Request } from 'express';

/**
 * The value of the cookie `name` in the request, URI-decoded as Express's `res.cookie` encoded it
 * (kept as sent when it does not decode); undefined when absent. (The `cookie` package would do this,
 * but it is not a declared dependency of this project.)
 */
export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0 || part.slice(0, index).trim() !== name) continue;
    const value = part.slice(index + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
