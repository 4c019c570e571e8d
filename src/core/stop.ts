// Values of the shared stop word (STATE_STOP), written by the host, read by both stage loops.
/** The guest posts nothing more, but waits for its in-flight completions (books balance). */
export const STOP_DRAIN = 1;
/** Both stages leave their loops now. */
export const STOP_NOW = 2;
