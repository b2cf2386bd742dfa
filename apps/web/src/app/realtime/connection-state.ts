/**
 * The live connection as the user sees it: `reconnecting` covers every attempt to (re)connect,
 * the first one included; `offline` means no attempt is under way (signed out, rejected, stopped).
 */
export const CONNECTION_STATES = ['connected', 'reconnecting', 'offline'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];
