// The pure calls: what cloudauth decides for a target, without any I/O.
// They run anywhere the component runs (Node, browsers, edge runtimes).

import { resolve as resolveApi, session as sessionApi } from '../generated/cloudauth.js';
import { StepContext, redactUrl } from './errors.js';
import { sessionIdentity, sessionOptions } from './options.js';

function witError(e) {
  return e && e.payload && typeof e.payload.tag === 'string' ? e.payload : undefined;
}

/** Runs a component call; a WIT error becomes a CloudauthError naming `name`. */
function call(name, fn) {
  try {
    return fn();
  } catch (e) {
    const error = witError(e);
    throw error ? new StepContext(name || '""').componentError(error) : e;
  }
}

/** `unsupported` as undefined, other errors thrown. */
function optional(name, fn) {
  try {
    return call(name, fn);
  } catch (e) {
    if (e.kind === 'unsupported') return undefined;
    throw e;
  }
}

/**
 * What cloudauth resolves for a registry reference: provider, registry
 * host, Azure cloud or ECR details, the token scopes and the
 * service-account token audience.
 */
export function explain(reference, { azureEnvironment } = {}) {
  const target = call(reference, () => resolveApi.resolveRegistry(reference, azureEnvironment));
  return {
    provider: target.provider,
    registry: target.registry,
    azureCloud: target.azureCloud,
    aws: target.aws,
    scopes: optional(reference, () => resolveApi.registryScopes(reference, azureEnvironment)) ?? [],
    audience: optional(reference, () => resolveApi.serviceAccountAudience(target.provider)),
  };
}

/**
 * `explain`, plus the first thing the flow would do for these settings:
 * the first request (method and URL without query; nothing is sent), or the
 * identity token it would ask for.
 */
export function plan(reference, settings = {}) {
  const explained = explain(reference, settings);
  const env = settings.env ?? {};
  const request = {
    target: { tag: 'registry', val: reference },
    identity: sessionIdentity(settings.identity),
    options: sessionOptions(env, settings),
    now: BigInt(Math.floor(Date.now() / 1000)),
  };
  const session = call(reference, () => sessionApi.Session.start(request));
  try {
    const step = session.next();
    let first;
    switch (step.tag) {
      case 'send-http':
        first = { action: 'send-http', method: step.val.method, url: redactUrl(step.val.url) };
        break;
      case 'fetch-identity-token':
        first = {
          action: 'fetch-identity-token',
          audience: step.val.audience,
          serviceAccount: step.val.serviceAccount,
          file: step.val.file,
        };
        break;
      case 'failed':
        throw new StepContext(reference).componentError(step.val);
      default:
        first = { action: step.tag };
    }
    return { ...explained, cacheKey: session.cacheKey(), firstStep: first };
  } finally {
    session[Symbol.dispose]();
  }
}
