// @cloudauth/cloudauth: cloud workload-identity credentials from the
// cloudauth WebAssembly component (transpiled by jco; no Rust needed).
//
// This entry point runs anywhere (browsers, edge runtimes); Node gets
// `node.js`, which adds token files and process.env. The high-level calls
// use a default client; `new Client(settings)` gives one with its own
// fetch, environment and cache.

import { Client } from './client.js';

export { Client, MAX_STEPS } from './client.js';
export { CloudauthError } from './errors.js';
export { explain, plan } from './explain.js';
export { CredentialCache } from './cache.js';
// The component's own interfaces, for request building and parsing.
export { resolve, azure, aws, gcp, sigv4, kubernetes, oci, session } from '../generated/cloudauth.js';

let defaultClient;
/** The client the top-level functions use (created on first use). */
export function getDefaultClient() {
  defaultClient ??= new Client();
  return defaultClient;
}

export const getRegistryCredentials = (reference, options) => getDefaultClient().getRegistryCredentials(reference, options);
export const getAccessToken = (provider, options) => getDefaultClient().getAccessToken(provider, options);
export const getGitCredentials = (url, options) => getDefaultClient().getGitCredentials(url, options);
export const getRestConfig = (cluster, options) => getDefaultClient().getRestConfig(cluster, options);
export const clearCache = () => getDefaultClient().clearCache();
