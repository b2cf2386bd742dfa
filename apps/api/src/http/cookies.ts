import { parseCookie } from 'cookie';
import type { Request } from 'express';

/**
 * The value of the cookie `name` in the request (the `cookie` package: URI-decoded as Express's
 * `res.cookie` encoded it, kept as sent when it does not decode, the first of repeated names);
 * undefined when absent.
 */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookie(header)[name] : undefined;
}
