// The parts of zod that the flag schemas use, and all that runCommand loads. Named re-exports let
// esbuild leave the rest out (locales, JSON Schema, codecs): the whole of zod is ~590 KB of bundle,
// which every command would parse before running (numbers: bench/README.md, issue 11).
export { array, boolean, enum, ipv4, ipv6, NEVER, number, object, string } from 'zod';
