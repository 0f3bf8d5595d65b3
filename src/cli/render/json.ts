/** Every --json document carries this, so scripts can detect a breaking change. */
const SCHEMA_VERSION = 1;

export const toJson = (document: Record<string, unknown>) => JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...document }, null, 2) + '\n';
