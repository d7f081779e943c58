// Session options and identities from the caller's settings, as the Rust
// host builds them from its process environment: the variables the
// component says its flows read (`session.environmentNames()`) go to the
// flow; cloudauth's own (`CLOUDAUTH_REGISTRY_USERNAME`,
// `CLOUDAUTH_REGISTRY_PASSWORD`, `CLOUDAUTH_TRUSTED_REALM_HOSTS`,
// `CLOUDAUTH_STS_ENDPOINT`) become options; nothing else (unrelated
// secrets) is handed over. Explicit call options win over the environment.

import { session as sessionApi } from '../generated/cloudauth.js';

/** Environment variables the flow sees: the ones the component lists. */
const environmentNames = new Set(sessionApi.environmentNames());

function nonEmpty(value) {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The flow's environment: the variables of `env` the flows read, sorted. */
export function flowEnvironment(env) {
  return Object.entries(env)
    .filter(([k, v]) => typeof v === 'string' && environmentNames.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The WIT `options` record for a call. */
export function sessionOptions(env, call = {}) {
  const realmHosts =
    call.trustedRealmHosts ??
    (nonEmpty(env.CLOUDAUTH_TRUSTED_REALM_HOSTS) ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
  return {
    environment: flowEnvironment(env),
    azureEnvironment: call.azureEnvironment,
    stsEndpoint: call.stsEndpoint ?? nonEmpty(env.CLOUDAUTH_STS_ENDPOINT),
    objectLevelWorkloadIdentity: call.objectLevelWorkloadIdentity ?? call.identity?.serviceAccount !== undefined,
    registryUsername: call.registryUsername ?? nonEmpty(env.CLOUDAUTH_REGISTRY_USERNAME),
    registryPassword: call.registryPassword ?? nonEmpty(env.CLOUDAUTH_REGISTRY_PASSWORD),
    trustedRealmHosts: realmHosts,
    // The host keeps the cache (by cache-key), shared by every call.
    skipCache: true,
  };
}

/**
 * The WIT `identity`: `'controller'` (or nothing) for the host's own, or
 * `{ serviceAccount: { namespace, name, annotations } }` with annotations
 * as an object or as pairs.
 */
export function sessionIdentity(identity) {
  if (identity === undefined || identity === 'controller') return { tag: 'controller' };
  const account = identity && identity.serviceAccount;
  if (!account || typeof account.namespace !== 'string' || typeof account.name !== 'string') {
    throw new TypeError("identity must be 'controller' or { serviceAccount: { namespace, name, annotations } }");
  }
  const annotations = Array.isArray(account.annotations)
    ? account.annotations.map(([k, v]) => [String(k), String(v)])
    : Object.entries(account.annotations ?? {}).map(([k, v]) => [k, String(v)]);
  return { tag: 'service-account', val: { namespace: account.namespace, name: account.name, annotations } };
}
