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

export function parseRolloverState(bytes: Uint8Array, what: string): RolloverState {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw inputError('ROLLOVER_STATE_INVALID', `${what} is not JSON`, 'restore it from a backup, or read audit.log (rollover-* lines) for where the rollover stands');
  }
  const parsed = RolloverStateSchema.safeParse(data);
  if (!parsed.success) throw inputError('ROLLOVER_STATE_INVALID', `${what} is not a rollover state (${parsed.error.issues[0]?.message ?? 'invalid'})`, 'restore it from a backup, or read audit.log (rollover-* lines) for where the rollover stands');
  return parsed.data;
}

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

export function parseDrillState(bytes: Uint8Array, what: string): DrillState {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw inputError('DRILL_STATE_INVALID', `${what} is not JSON`, 'read audit.log (compromise lines) for where the drill stands');
  }
  const parsed = DrillStateSchema.safeParse(data);
  if (!parsed.success) throw inputError('DRILL_STATE_INVALID', `${what} is not a drill state (${parsed.error.issues[0]?.message ?? 'invalid'})`, 'read audit.log (compromise lines) for where the drill stands');
  return parsed.data;
}

export const drillStateText = (state: DrillState) => JSON.stringify(state, null, 2) + '\n';
