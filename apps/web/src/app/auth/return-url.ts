export const DEFAULT_SIGNED_IN_URL = '/dashboard';

/**
 * Where to go after signing in: the page the user was sent away from, if it is a path of this
 * app (never another origin, never the sign-in pages themselves).
 */
export function safeReturnUrl(candidate: string | null | undefined): string {
  if (!candidate || !candidate.startsWith('/') || candidate.startsWith('//') || candidate.includes('\\')) return DEFAULT_SIGNED_IN_URL;
  if (/^\/(login|register)(?=$|[/?#])/.test(candidate)) return DEFAULT_SIGNED_IN_URL;
  return candidate;
}
