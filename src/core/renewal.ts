import { inputError } from './errors.js';

/**
 * When a certificate is due for renewal: either a fraction of its lifetime left ("33%") or a fixed
 * time before notAfter ("30d", "12h"). Raw text and parsed value never share a type (STYLE rule 4).
 */
export type RenewThreshold =
  | { kind: 'fraction'; fraction: number; text: string }
  | { kind: 'duration'; ms: number; text: string };

export type ExpiryStatus = 'valid' | 'expiring' | 'expired';

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export interface RenewalDecision {
  due: boolean;
  /** One sentence, e.g. "expires in 9 days, within the renewal window of 33% of its lifetime". */
  reason: string;
  status: ExpiryStatus;
  /** The instant from which the certificate is due (notAfter minus the threshold). */
  renewAt: Date;
  /** Milliseconds left until notAfter; negative once expired. */
  remainingMs: number;
}

/**
 * `m` is a minute, as in Go's time.ParseDuration and systemd; a month is `mo`, 30 days (a fixed length,
 * so "renew 1mo before expiry" means the same in February and in March).
 */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, mo: 2_592_000_000 } as const;
const DAY_MS = UNIT_MS.d;

/**
 * One third of the lifetime left: cert-manager's default (renewBefore = duration / 3) and the point at
 * which step-ca's renewer acts, so a 90-day certificate is renewed with 30 days to spare.
 */
export const DEFAULT_RENEW_BEFORE: RenewThreshold = { kind: 'fraction', fraction: 1 / 3, text: '33%' };

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** "30d", "12h", "90m" (minutes), "45s", "2w", "3mo" (months), or combinations such as "1d12h". */
export function tryParseDuration(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(mo|[smhdw]))+$/.test(trimmed)) {
    return { ok: false, message: `'${text}' is not a duration; use a number and a unit: 30d, 12h, 2w, 3mo (months), 90m (minutes)` };
  }
  let ms = 0;
  for (const [, n, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(mo|[smhdw])/g)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms <= 0) return { ok: false, message: `'${text}' must be longer than zero` };
  if (ms > 100 * 365 * DAY_MS) return { ok: false, message: `'${text}' is longer than 100 years` };
  return { ok: true, value: Math.round(ms) };
}

/** "33%" (of the lifetime left), "33.3%", or a duration before notAfter ("30d", "12h"). */
export function tryParseRenewBefore(text: string): Parsed<RenewThreshold> {
  const trimmed = text.trim();
  if (trimmed.endsWith('%')) {
    const body = trimmed.slice(0, -1);
    const percent = Number(body);
    if (!/^\d+(\.\d+)?$/.test(body) || !(percent > 0 && percent < 100)) {
      return { ok: false, message: `'${text}' is not a percentage between 0% and 100% (exclusive), e.g. 33%` };
    }
    return { ok: true, value: { kind: 'fraction', fraction: percent / 100, text: trimmed } };
  }
  const duration = tryParseDuration(trimmed);
  if (!duration.ok) return { ok: false, message: `'${text}' is neither a percentage of the lifetime (33%) nor a duration (30d, 12h)` };
  return { ok: true, value: { kind: 'duration', ms: duration.value, text: trimmed } };
}

/** Throws a one-line input error (exit 2) naming the flag. */
export function parseRenewBefore(text: string, flag = '--renew-before'): RenewThreshold {
  const parsed = tryParseRenewBefore(text);
  if (!parsed.ok) throw inputError('RENEW_BEFORE_INVALID', `invalid value for ${flag}: ${parsed.message}`);
  return parsed.value;
}

export function parseDuration(text: string, flag = '--expiring-within'): number {
  const parsed = tryParseDuration(text);
  if (!parsed.ok) throw inputError('DURATION_INVALID', `invalid value for ${flag}: ${parsed.message}`);
  return parsed.value;
}

/** How long before notAfter the threshold starts, for this certificate's lifetime. */
export function renewWindowMs(validity: Validity, threshold: RenewThreshold): number {
  if (threshold.kind === 'duration') return threshold.ms;
  const lifetime = Math.max(0, validity.notAfter.getTime() - validity.notBefore.getTime());
  return lifetime * threshold.fraction;
}

/**
 * RFC 5280 §4.1.2.5: the validity period includes both notBefore and notAfter, so a certificate is
 * expired only strictly after notAfter.
 */
export function isExpired(validity: Validity, now: Date): boolean {
  return now.getTime() > validity.notAfter.getTime();
}

export function needsRenewal(validity: Validity, threshold: RenewThreshold, now: Date): RenewalDecision {
  const remainingMs = validity.notAfter.getTime() - now.getTime();
  const renewAt = new Date(validity.notAfter.getTime() - renewWindowMs(validity, threshold));
  const window = threshold.kind === 'fraction' ? `${formatPercent(threshold.fraction)} of its lifetime` : threshold.text;
  if (isExpired(validity, now)) {
    return { due: true, status: 'expired', renewAt, remainingMs, reason: `expired ${formatSpan(-remainingMs)} ago (${validity.notAfter.toISOString()})` };
  }
  if (now.getTime() >= renewAt.getTime()) {
    return { due: true, status: 'expiring', renewAt, remainingMs, reason: `expires in ${formatSpan(remainingMs)}, within the renewal window of ${window}` };
  }
  return { due: false, status: 'valid', renewAt, remainingMs, reason: `expires in ${formatSpan(remainingMs)}; renewal due from ${renewAt.toISOString()} (${window} before expiry)` };
}

/** The status alone, without building the reason (list computes it for 10,000 certificates). */
export function expiryStatus(validity: Validity, threshold: RenewThreshold, now: Date): ExpiryStatus {
  if (isExpired(validity, now)) return 'expired';
  return now.getTime() >= validity.notAfter.getTime() - renewWindowMs(validity, threshold) ? 'expiring' : 'valid';
}

/** Whole days left until notAfter (negative once expired), rounded down: 29.9 days left shows as 29. */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

/** "3 days", "5 hours", "12 minutes". */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (abs >= 2 * DAY_MS) return plural(Math.floor(abs / DAY_MS), 'day');
  if (abs >= 2 * UNIT_MS.h) return plural(Math.floor(abs / UNIT_MS.h), 'hour');
  if (abs >= 2 * UNIT_MS.m) return plural(Math.floor(abs / UNIT_MS.m), 'minute');
  return plural(Math.floor(abs / 1000), 'second');
}
