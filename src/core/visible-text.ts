/**
 * The one rule for names a person reads (tenant ids, subject attributes): every character visible,
 * no space at either end. Hidden characters let two names look alike or rewrite the terminal line
 * that shows them: controls (C0, DEL, C1 such as U+0085 NEL), format characters (the bidi controls
 * U+200E/F, U+202A-E, U+2066-9 that reorder what follows; zero-width characters), line and paragraph
 * separators (U+2028/9), spaces other than U+0020, and code points with no character (lone
 * surrogates, private use, unassigned).
 */
const HIDDEN: [RegExp, string][] = [
  [/\p{Cc}/u, 'a control character'],
  [/\p{Cf}/u, 'an invisible formatting character'],
  [/[\p{Zl}\p{Zp}]/u, 'a line or paragraph separator'],
  [/(?! )\p{Zs}/u, 'a space other than U+0020'],
  [/[\p{Cs}\p{Co}\p{Cn}]/u, 'a code point that is not a visible character (surrogate, private use or unassigned)'],
];

const ANY_HIDDEN = /[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Printable ASCII, no space at either end: most names, answered by one test (rotate checks every tenant). */
const PLAIN = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/** Why `text` is not a visible name, or undefined when it is. */
export function visibleTextProblem(text: string): string | undefined {
  if (PLAIN.test(text)) return undefined;
  for (const [pattern, what] of HIDDEN) {
    const found = pattern.exec(text);
    if (found) return `it contains ${what} (${codePoint(found[0])})`;
  }
  if (text.startsWith(' ')) return 'it starts with a space';
  if (text.endsWith(' ')) return 'it ends with a space';
  if (text.normalize('NFC') !== text) return 'it is not in Unicode normal form C (the same name could be spelled two ways)';
  return undefined;
}

/**
 * Quotes untrusted text for a one-line message: JSON escapes, and every hidden character (see above)
 * as \uXXXX, so a value can neither break the line nor reorder the terminal's text.
 */
export function printable(text: string): string {
  const cut = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(cut)
    .slice(1, -1)
    .replace(ANY_HIDDEN, (c) => {
      const hex = c.codePointAt(0)!.toString(16).padStart(4, '0');
      return hex.length > 4 ? `\\u{${hex}}` : `\\u${hex}`;
    });
}
