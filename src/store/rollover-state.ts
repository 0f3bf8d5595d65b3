import * as z from 'zod/mini';
import { inputError } from '../core/errors.js';

/**
 * rollover/state.json: where a root rollover stands. begun: the new root is in ca.crt beside the old
 * one, the old one still signs; switched: the new root signs (directly or through a new
 * intermediate); finished: ca.crt holds the new root alone.
 */
const RolloverStateSchema = z.strictObject({
  schemaVersion: z.literal(1),
  phase: z.enum(['begun', 'switched', 'finished']),
  /** Serial of the root being replaced. */
  oldRoot: z.string().check(z.regex(/^[0-9a-f]+$/)),
  /** Serial of the new root. */
  newRoot: z.string().check(z.regex(/^[0-9a-f]+$/)),
  /** When each phase was done. */
  begunAt: z.string(),
  switchedAt: z.optional(z.string()),
  finishedAt: z.optional(z.string()),
});

export type RolloverState = z.infer<typeof RolloverStateSchema>;
export type RolloverPhase = RolloverState['phase'];

/** A state file read back: JSON matching `schema`, else one line naming the file and where to look instead. */
function parseState<T>(schema: z.ZodMiniType<T>, bytes: Uint8Array, what: string, code: string, hint: string): T {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw inputError(code, `${what} is not JSON`, hint);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw inputError(code, `${what} is not a valid state file (${parsed.error.issues[0]?.message ?? 'invalid'})`, hint);
  return parsed.data;
}

export const parseRolloverState = (bytes: Uint8Array, what: string): RolloverState =>
  parseState(RolloverStateSchema, bytes, what, 'ROLLOVER_STATE_INVALID', 'restore it from a backup, or read audit.log (rollover-* lines) for where the rollover stands');

export const rolloverStateText = (state: RolloverState) => JSON.stringify(state, null, 2) + '\n';

/**
 * rollover/compromise.json: a compromise drill in progress or done. Each step is recorded once done,
 * so a rerun after a kill resumes at the first step not done.
 */
const DrillStateSchema = z.strictObject({
  schemaVersion: z.literal(1),
  scope: z.enum(['intermediate', 'root']),
  /** Serial of the compromised CA. */
  oldCa: z.string().check(z.regex(/^[0-9a-f]+$/)),
  /** Serial of its replacement (the new intermediate, or the new root), once made. */
  newCa: z.optional(z.string().check(z.regex(/^[0-9a-f]+$/))),
  startedAt: z.string(),
  /** The steps done, in order. */
  done: z.array(z.string()),
  finishedAt: z.optional(z.string()),
});

export type DrillState = z.infer<typeof DrillStateSchema>;

export const parseDrillState = (bytes: Uint8Array, what: string): DrillState =>
  parseState(DrillStateSchema, bytes, what, 'DRILL_STATE_INVALID', 'read audit.log (compromise lines) for where the drill stands');

export const drillStateText = (state: DrillState) => JSON.stringify(state, null, 2) + '\n';
