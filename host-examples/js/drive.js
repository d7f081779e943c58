// Runs a cloudauth `session` to its end, for hosts using the jco bindings.
//
// The session is sans-IO: it says what to do (`send-http`,
// `fetch-identity-token`, `read-file`) and the host does it. This loop is all a host
// needs: give it the I/O as callbacks.

/** The most steps a flow may take: real flows take fewer than ten. */
export const MAX_STEPS = 32;

/** A WIT `error`, thrown when a session ends with `failed`. */
export class CloudauthError extends Error {
  constructor(error) {
    const detail =
      error.tag === 'http-status'
        ? `http-status ${error.val.status}${error.val.code ? ` (${error.val.code})` : ''}: ${error.val.message}`
        : `${error.tag}: ${error.val}`;
    super(detail);
    this.name = 'CloudauthError';
    this.kind = error.tag;
    this.payload = error.val;
  }
}

/** Runs a `receive-*` call: a WIT error it returns (jco throws it as a
 * `ComponentError` with the variant as `payload`) ends the flow. */
function handOver(call) {
  try {
    call();
  } catch (e) {
    if (e && e.payload && typeof e.payload.tag === 'string') throw new CloudauthError(e.payload);
    throw e;
  }
}

/**
 * Drives `session` until `done` and returns the `credentials` variant.
 *
 * @param session a `Session` from `session.Session.start(request)`
 * @param io.sendHttp (request) => response, the HTTP exchange
 * @param io.fetchIdentityToken (request) => string, the identity token
 * @param io.now () => bigint, the current Unix time
 * @param io.readFile (path) => Uint8Array | undefined, a file the flow names
 *   (undefined: it does not exist); by default the host's file system
 */
export async function drive(session, { sendHttp, fetchIdentityToken, now, readFile = readHostFile }, maxSteps = MAX_STEPS) {
  for (let i = 0; i < maxSteps; i++) {
    const step = session.next();
    switch (step.tag) {
      case 'done':
        return step.val;
      case 'failed':
        throw new CloudauthError(step.val);
      case 'send-http': {
        const response = await sendHttp(step.val);
        handOver(() => session.receiveHttp(response, now()));
        break;
      }
      case 'fetch-identity-token': {
        const token = await fetchIdentityToken(step.val);
        handOver(() => session.receiveIdentityToken(token, now()));
        break;
      }
      case 'read-file': {
        const contents = await readFile(step.val);
        handOver(() => session.receiveFile(contents, now()));
        break;
      }
      default:
        throw new Error(`unknown step ${step.tag}`);
    }
  }
  throw new Error(`the session did not finish within ${maxSteps} steps`);
}

/** Reads a file with node's fs: its bytes, or undefined when it does not
 * exist (an answer the flow takes); other errors propagate. */
async function readHostFile(path) {
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e && e.code === 'ENOENT') return undefined;
    throw e;
  }
}
