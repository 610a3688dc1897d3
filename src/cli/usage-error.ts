import { ConfigError } from '../config.js';

/** A command line that cannot be run as typed (unknown command or flag, bad flag value): exit 2. */
export class UsageError extends ConfigError {}
