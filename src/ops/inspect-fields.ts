/** What `inspect --field` can print, one value per certificate per line (its own module: the CLI loads it at start-up). */
export const INSPECT_FIELDS = ['cn', 'subject', 'issuer', 'serial', 'not-before', 'not-after', 'sans', 'fingerprint'] as const;
export type InspectField = (typeof INSPECT_FIELDS)[number];
