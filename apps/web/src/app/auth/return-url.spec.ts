import { DEFAULT_SIGNED_IN_URL, safeReturnUrl } from './return-url';

describe('safeReturnUrl', () => {
  it('keeps paths of this app', () => {
    expect(safeReturnUrl('/dashboard?status=failed')).toBe('/dashboard?status=failed');
  });

  it.each([
    undefined,
    null,
    '',
    'dashboard',
    'https://evil.example/',
    '//evil.example/x',
    '/\\evil.example',
    '/login',
    '/login?returnUrl=/x',
    '/register',
  ])('sends %p to the dashboard', (candidate) => {
    expect(safeReturnUrl(candidate)).toBe(DEFAULT_SIGNED_IN_URL);
  });

  it('does not mistake a path that merely starts with "login" for the sign-in page', () => {
    expect(safeReturnUrl('/loginhelp')).toBe('/loginhelp');
  });
});
