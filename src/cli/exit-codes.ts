/** 0 ok · 1 the operation failed or a check found problems · 2 usage or input error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, what shells report for a command stopped by Ctrl-C (bulk commands stop cleanly first). */
export const EXIT_INTERRUPTED = 130;
/** 128 + SIGTERM: a second SIGTERM during a bulk run. */
export const EXIT_TERMINATED = 143;
