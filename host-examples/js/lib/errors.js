// The one error type of the high-level API.
//
// A failed flow names where it failed: the step (1-based; 0 is the start
// of the session), what the step did (`send-http`, `fetch-identity-token`)
// and the host it talked to, so that "http-status 403: forbidden" reads as
// "step 1 GET http://169.254.169.254/metadata/identity/oauth2/token: ...".
// URLs lose their query (a presigned URL carries a signature in it), and
// the component promises its own messages hold no secret.

/** A URL without query or fragment: what may be logged or shown. */
export function redactUrl(url) {
  return String(url).split(/[?#]/, 1)[0];
}

/** The host (and port) of a URL, or the URL itself when it is not one. */
export function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return redactUrl(url);
  }
}

/** A WIT `error` variant as one line. */
export function describeComponentError(error) {
  if (error.tag === 'http-status') {
    const { status, code, message } = error.val;
    return `http-status ${status}${code ? ` (${code})` : ''}: ${message}`;
  }
  return `${error.tag}: ${error.val}`;
}

export class CloudauthError extends Error {
  /**
   * @param {string} message the whole message
   * @param {object} fields kind, target, step, action, host, status, code, cause
   */
  constructor(message, { kind, target, step, action, host, status, code, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CloudauthError';
    this.kind = kind;
    this.target = target;
    this.step = step;
    this.action = action;
    this.host = host;
    this.status = status;
    this.code = code;
  }
}

/** Where a flow is: what a failure there is reported against. */
export class StepContext {
  constructor(target) {
    this.target = target;
    this.step = 0;
    this.action = 'start';
    this.host = undefined;
    this.what = 'start';
  }

  sending(request) {
    this.step += 1;
    this.action = 'send-http';
    this.host = hostOf(request.url);
    this.what = `${request.method} ${redactUrl(request.url)}`;
  }

  fetchingToken(request) {
    this.step += 1;
    this.action = 'fetch-identity-token';
    this.host = undefined;
    const whose = request.serviceAccount ? `service account ${request.serviceAccount.join('/')}` : 'own identity';
    this.what = `identity token (${whose}, audience ${request.audience || 'default'}${request.file ? `, file ${request.file}` : ''})`;
  }

  /** A CloudauthError for a WIT error returned at this step. */
  componentError(error) {
    const status = error.tag === 'http-status' ? error.val.status : undefined;
    const code = error.tag === 'http-status' ? error.val.code : undefined;
    return this.error(error.tag, describeComponentError(error), { status, code });
  }

  /** A CloudauthError of `kind` at this step. */
  error(kind, detail, extra = {}) {
    const where = this.step === 0 ? 'start' : `step ${this.step} ${this.what}`;
    return new CloudauthError(`cloudauth: ${this.target}: ${where}: ${detail}`, {
      kind,
      target: this.target,
      step: this.step,
      action: this.action,
      host: this.host,
      ...extra,
    });
  }
}
