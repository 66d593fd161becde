/**
 * The validator of every schema in functions/: zod's tree-shakable `zod/mini` build, with zod's
 * English messages (the full build configures them itself; mini leaves "Invalid input"). The full
 * build costs about 95 KB and its schema construction at every cold start (docs/cold-starts.md).
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
