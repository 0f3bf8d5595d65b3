import { describe, expect, it } from 'vitest';
import { expiringWithinSchema, renewBeforeSchema } from '../../src/cli/shared-options.js';
import * as zod from '../../src/cli/zod.js';
import { PkiError } from '../../src/core/errors.js';
import {
  daysLeft,
  DEFAULT_RENEW_BEFORE,
  expiryStatus,
  needsRenewal,
  parseDuration,
  parseRenewBefore,
  tryParseRenewBefore,
} from '../../src/core/renewal.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
// A 90-day certificate with fixed UTC dates (x509 test style: check before, at and after each boundary).
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 90 * DAY);
const cert = { notBefore, notAfter };
const at = (msBeforeExpiry: number) => new Date(notAfter.getTime() - msBeforeExpiry);

describe('parseRenewBefore', () => {
  it('reads percentages as a fraction of the lifetime', () => {
    expect(parseRenewBefore('33%')).toEqual({ kind: 'fraction', fraction: 0.33, text: '33%' });
    expect(parseRenewBefore('12.5%')).toMatchObject({ kind: 'fraction', fraction: 0.125 });
  });
  it('reads durations before notAfter', () => {
    expect(parseRenewBefore('30d')).toEqual({ kind: 'duration', ms: 30 * DAY, text: '30d' });
    expect(parseRenewBefore('12h')).toMatchObject({ ms: 12 * HOUR });
    expect(parseRenewBefore('1d12h')).toMatchObject({ ms: 36 * HOUR });
    expect(parseRenewBefore('2w')).toMatchObject({ ms: 14 * DAY });
  });
  it('reads mo as a month of 30 days and m as a minute (issue 13, item 15)', () => {
    expect(parseRenewBefore('1mo')).toMatchObject({ ms: 30 * DAY });
    expect(parseRenewBefore('1mo15d')).toMatchObject({ ms: 45 * DAY });
    expect(parseRenewBefore('1m')).toMatchObject({ ms: 60_000 });
    expect(parseDuration('3mo')).toBe(90 * DAY);
  });
  it.each(['', '0%', '100%', '150%', '-5%', '%', 'abc', '30', '30 days', '0d', '-3d', '1e3d', '33%%', '1y'])('rejects %j with one line naming the flag', (text) => {
    let error: unknown;
    try {
      parseRenewBefore(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PkiError);
    expect((error as PkiError).kind).toBe('input');
    expect((error as PkiError).message).toMatch(/^invalid value for --renew-before: /);
    expect((error as PkiError).message).not.toContain('\n');
  });
  it('works as a zod fragment with a readable issue', () => {
    const schema = zod.object({ renewBefore: renewBeforeSchema(zod), within: expiringWithinSchema(zod) });
    expect(schema.parse({ renewBefore: '33%', within: '30d' })).toEqual({
      renewBefore: { kind: 'fraction', fraction: 0.33, text: '33%' },
      within: { kind: 'duration', ms: 30 * DAY, text: '30d' },
    });
    const bad = schema.safeParse({ renewBefore: 'soon', within: '30d' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/'soon' is neither a percentage/);
    expect(schema.safeParse({ renewBefore: '33%', within: 'x' }).success).toBe(false);
  });
  it('parseDuration names its flag', () => {
    expect(parseDuration('30d')).toBe(30 * DAY);
    expect(() => parseDuration('thirty', '--expiring-within')).toThrow(/--expiring-within: 'thirty' is not a duration/);
  });
  it('tryParseRenewBefore never throws', () => {
    expect(tryParseRenewBefore('nope').ok).toBe(false);
  });
});

describe('needsRenewal with a duration', () => {
  const t = parseRenewBefore('30d');
  it('is not due one millisecond before the window opens', () => {
    const d = needsRenewal(cert, t, at(30 * DAY + 1));
    expect(d).toMatchObject({ due: false, status: 'valid' });
    expect(d.renewAt.toISOString()).toBe(at(30 * DAY).toISOString());
  });
  it('is due exactly when the window opens and just inside it', () => {
    expect(needsRenewal(cert, t, at(30 * DAY))).toMatchObject({ due: true, status: 'expiring' });
    expect(needsRenewal(cert, t, at(30 * DAY - 1))).toMatchObject({ due: true, status: 'expiring' });
  });
  it('is still only expiring at notAfter itself (RFC 5280: notAfter is inclusive), expired 1 ms later', () => {
    expect(needsRenewal(cert, t, notAfter)).toMatchObject({ due: true, status: 'expiring', remainingMs: 0 });
    const d = needsRenewal(cert, t, at(-1));
    expect(d).toMatchObject({ due: true, status: 'expired', remainingMs: -1 });
    expect(d.reason).toMatch(/^expired /);
  });
  it('is expired long after notAfter', () => {
    expect(needsRenewal(cert, t, at(-400 * DAY)).reason).toMatch(/expired 400 days ago/);
  });
  it('a window longer than the lifetime makes a fresh certificate due at once', () => {
    expect(needsRenewal(cert, parseRenewBefore('100d'), notBefore)).toMatchObject({ due: true, status: 'expiring' });
  });
  it('works in hours', () => {
    const h = parseRenewBefore('12h');
    expect(needsRenewal(cert, h, at(12 * HOUR + 1000)).due).toBe(false);
    expect(needsRenewal(cert, h, at(12 * HOUR)).due).toBe(true);
  });
});

describe('needsRenewal with a fraction of the lifetime', () => {
  it('defaults to one third of the lifetime left (30 days of 90)', () => {
    expect(DEFAULT_RENEW_BEFORE).toMatchObject({ kind: 'fraction', text: '33%' });
    expect(DEFAULT_RENEW_BEFORE.kind === 'fraction' && DEFAULT_RENEW_BEFORE.fraction).toBeCloseTo(1 / 3, 12);
    expect(needsRenewal(cert, DEFAULT_RENEW_BEFORE, at(30 * DAY + 1)).due).toBe(false);
    expect(needsRenewal(cert, DEFAULT_RENEW_BEFORE, at(30 * DAY)).due).toBe(true);
  });
  it('33% of 90 days = 29.7 days, to the millisecond', () => {
    const t = parseRenewBefore('33%');
    const window = 90 * DAY * 0.33;
    expect(needsRenewal(cert, t, at(window + 1)).due).toBe(false);
    expect(needsRenewal(cert, t, at(window)).due).toBe(true);
    expect(needsRenewal(cert, t, at(30 * DAY)).due).toBe(false);
    expect(needsRenewal(cert, t, at(29 * DAY)).due).toBe(true);
  });
  it('fractional percentages work (0.5% of 90 days = 10.8 hours)', () => {
    const t = parseRenewBefore('0.5%');
    expect(needsRenewal(cert, t, at(11 * HOUR)).due).toBe(false);
    expect(needsRenewal(cert, t, at(10 * HOUR)).due).toBe(true);
  });
  it('is not due before notBefore (a certificate not yet valid is not expiring)', () => {
    expect(needsRenewal(cert, DEFAULT_RENEW_BEFORE, new Date(notBefore.getTime() - DAY))).toMatchObject({ due: false, status: 'valid' });
  });
  it('a zero-length certificate is expiring at its instant and expired after it', () => {
    const instant = { notBefore, notAfter: notBefore };
    expect(expiryStatus(instant, DEFAULT_RENEW_BEFORE, notBefore)).toBe('expiring');
    expect(expiryStatus(instant, DEFAULT_RENEW_BEFORE, new Date(notBefore.getTime() + 1))).toBe('expired');
  });
});

describe('expiryStatus and daysLeft', () => {
  const t = parseRenewBefore('30d');
  it('classifies the three states', () => {
    expect(expiryStatus(cert, t, at(31 * DAY))).toBe('valid');
    expect(expiryStatus(cert, t, at(29 * DAY))).toBe('expiring');
    expect(expiryStatus(cert, t, at(-DAY))).toBe('expired');
  });
  it('rounds days left down, negative after expiry', () => {
    expect(daysLeft(notAfter, at(30 * DAY))).toBe(30);
    expect(daysLeft(notAfter, at(30 * DAY - 1))).toBe(29);
    expect(daysLeft(notAfter, at(0))).toBe(0);
    expect(daysLeft(notAfter, at(-1))).toBe(-1);
  });
});
