import { describe, expect, it } from 'vitest';
import { compileTenantIdPattern, tenantIdProblem } from '../../src/core/tenant-id.js';
import { printable } from '../../src/core/visible-text.js';

describe('tenant ids under a template pattern that admits anything', () => {
  it.each([
    ['a C1 control (NEL)', 'acme\u0085prod', 'it contains a control character (U+0085)'],
    ['DEL', 'acme\u007f', 'it contains a control character (U+007F)'],
    ['a line separator', 'acme\u2028prod', 'it contains a line or paragraph separator (U+2028)'],
    ['a paragraph separator', 'acme\u2029prod', 'it contains a line or paragraph separator (U+2029)'],
    ['a right-to-left override', 'acme\u202eprod', 'it contains an invisible formatting character (U+202E)'],
    ['a left-to-right mark', 'acme\u200e', 'it contains an invisible formatting character (U+200E)'],
    ['a bidi isolate', '\u2066acme\u2069', 'it contains an invisible formatting character (U+2066)'],
    ['a zero-width space', 'ac\u200bme', 'it contains an invisible formatting character (U+200B)'],
    ['a no-break space', 'acme\u00a0prod', 'it contains a space other than U+0020 (U+00A0)'],
    ['a private-use character', 'acme\ue000', 'it contains a code point that is not a visible character (surrogate, private use or unassigned) (U+E000)'],
    ['a lone surrogate', 'acme\ud800', 'it contains a code point that is not a visible character (surrogate, private use or unassigned) (U+D800)'],
    ['a leading space', ' acme', 'it starts with a space'],
    ['a trailing space', 'acme ', 'it ends with a space'],
    ['a decomposed accent', 'acme-e\u0301', 'it is not in Unicode normal form C (the same name could be spelled two ways)'],
    ['65 characters', 'a'.repeat(65), 'it is longer than 64 characters (the X.509 CN limit)'],
    ['a slash', 'a/b', "it contains '/' or '\\'"],
    ['..', 'a..b', "it contains '..'"],
    ['a leading dot', '.a', "it starts with '.'"],
  ])('refuses %s', async (_what, id, problem) => {
    expect(tenantIdProblem(id, await compileTenantIdPattern('^[\\s\\S]*$'))).toBe(problem);
  });

  it('accepts visible names the pattern allows, inner spaces and letters beyond ASCII included', async () => {
    const any = await compileTenantIdPattern('^[\\s\\S]*$');
    for (const id of ['acme prod', 'café-müller', 'a'.repeat(64), '租户-1']) expect(tenantIdProblem(id, any)).toBeUndefined();
  });
});

describe('template patterns run in linear time', () => {
  it("checks 1,000 ids such as 'a' x 30 + '!' against ^(a+)+$ (2^n steps each for a backtracking engine)", async () => {
    const evil = await compileTenantIdPattern('^(a+)+$');
    const ids = Array.from({ length: 1000 }, (_, i) => `${'a'.repeat(20 + (i % 43))}!`);
    expect(ids.map((id) => tenantIdProblem(id, evil))).toEqual(ids.map(() => "it does not match the client profile's pattern ^(a+)+$"));
    expect(tenantIdProblem('a'.repeat(30), evil)).toBeUndefined();
  });

  it.each([
    ['a lookahead', '^(?=a)a+$', /invalid or unsupported Perl syntax/],
    ['a backreference', '^(a)\\1$', /invalid escape sequence/],
    ['a syntax error', '^[a-z$', /missing closing \]/],
  ])('refuses %s when the template is loaded, with RE2\'s reason', async (_what, source, reason) => {
    await expect(compileTenantIdPattern(source)).rejects.toThrow(reason);
    await expect(compileTenantIdPattern(source)).rejects.toThrow(/^not a pattern pkictl can run \(RE2 syntax: no lookaround or backreferences\)/);
  });

  it('keeps the pattern an unanchored search, as a JavaScript RegExp was', async () => {
    const p = await compileTenantIdPattern('[0-9]');
    expect(tenantIdProblem('tenant-7', p)).toBeUndefined();
    expect(tenantIdProblem('tenant', p)).toBe("it does not match the client profile's pattern [0-9]");
  });
});

describe('printable', () => {
  it('escapes every hidden character, so a message stays one line in reading order', () => {
    expect(printable('a\u0085b\u2028c\u202ed\u200be\u00a0f\n')).toBe('a\\u0085b\\u2028c\\u202ed\\u200be\\u00a0f\\n');
    expect(printable('\u{f0000}')).toBe('\\u{f0000}');
    expect(printable('café müller')).toBe('café müller');
  });
});
