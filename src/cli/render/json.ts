/** Every --json document carries this, so scripts can detect a breaking change. */
const SCHEMA_VERSION = 1;

/**
 * The one way a --json document is written: indented for a person at a terminal, one line
 * otherwise, so `pkictl rotate --json >> rotate.jsonl` appends JSON Lines.
 */
export const toJson = (document: Record<string, unknown>, { pretty }: { pretty: boolean }) =>
  JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...document }, null, pretty ? 2 : undefined) + '\n';
