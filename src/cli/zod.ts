// The zod that flag schemas are built from: zod/mini, the functional build of zod 4 (the same checks
// and messages, composed with functions instead of methods), so that the bundle holds only the zod
// code in use. Every command loads it before it runs: import + build + first parse cost ~15 ms of
// CPU here against ~45 ms for the classic API (bench/README.md, issue 11). core/profile.ts (the
// templates) uses zod/mini as well, so the two share one small chunk.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini starts without messages: these are the English ones the classic API sets up, for every
// schema in the process (flags and templates).
config(en());

export {
  _default,
  array,
  boolean,
  enum,
  int,
  ipv4,
  ipv6,
  maximum,
  minimum,
  minLength,
  NEVER,
  object,
  optional,
  pipe,
  refine,
  regex,
  string,
  transform,
  union,
} from 'zod/mini';
