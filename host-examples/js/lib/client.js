// The high-level API: one call per kind of credentials, each running a
// cloudauth session to its end with real I/O.
//
// A `Client` holds what calls share: the fetch, the environment, the token
// file reader and the credential cache. The cache is the host's, keyed by
// the session's `cache-key()`; concurrent calls for one key share one flow.

import { resolve as resolveApi, session as sessionApi } from '../generated/cloudauth.js';
import { CredentialCache } from './cache.js';
import { CloudauthError, StepContext } from './errors.js';
import { send } from './http.js';
import { sessionIdentity, sessionOptions } from './options.js';

/** The most steps a flow may take; real flows take fewer than ten. */
export const MAX_STEPS = 32;

/** What the platform entry point (Node or not) provides by default. */
export const platform = {
  /** () => the environment object (Node: process.env). */
  env: () => ({}),
  /** (path) => Promise<string>, or undefined where files cannot be read. */
  readFile: undefined,
};

const nowSeconds = () => Math.floor(Date.now() / 1000);
const toDate = (seconds) => (seconds === undefined ? undefined : new Date(Number(seconds) * 1000));
const toSeconds = (bigint) => (bigint === undefined ? undefined : Number(bigint));

/** A WIT error thrown by jco (a `ComponentError` with the variant as payload). */
function witError(e) {
  return e && e.payload && typeof e.payload.tag === 'string' ? e.payload : undefined;
}

export class Client {
  /**
   * @param settings.fetch the fetch to use (default: globalThis.fetch)
   * @param settings.env the environment (default: process.env in Node, {} elsewhere)
   * @param settings.readFile (path) => Promise<string> for token files
   * @param settings.now () => Unix seconds
   * @param settings.cacheCapacity entries kept in the credential cache
   */
  constructor(settings = {}) {
    this.settings = settings;
    this.cache = new CredentialCache(settings.cacheCapacity);
    this.inflight = new Map();
  }

  env(call) {
    return call.env ?? this.settings.env ?? platform.env();
  }

  now() {
    return (this.settings.now ?? nowSeconds)();
  }

  /** Registry credentials for an image reference, registry host or oci:// URL. */
  async getRegistryCredentials(reference, call = {}) {
    const env = this.env(call);
    const options = sessionOptions(env, call);
    let target;
    try {
      target = resolveApi.resolveRegistry(reference, options.azureEnvironment);
    } catch (e) {
      const error = witError(e);
      if (!error) throw e;
      throw new StepContext(safeTarget(reference)).componentError(error);
    }
    if (target.provider === 'generic' && options.registryUsername === undefined) {
      throw new StepContext(target.registry).error(
        'unsupported',
        `unsupported: ${target.registry} is not a cloud registry and no registry credentials are configured for it`,
      );
    }
    const credentials = await this.run({ tag: 'registry', val: reference }, target.registry, env, options, call);
    const c = expect(credentials, 'registry', target.registry);
    return { registry: target.registry, username: c.username, password: c.password, expiresAt: toDate(c.expiresAt) };
  }

  /** A cloud access token (`aws`: the AWS credentials themselves). */
  async getAccessToken(provider, call = {}) {
    const env = this.env(call);
    const options = sessionOptions(env, call);
    const credentials = await this.run({ tag: 'access-token', val: [provider, call.scopes ?? []] }, provider, env, options, call);
    if (credentials.tag === 'aws') {
      const c = credentials.val;
      return {
        kind: 'aws',
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiresAt: toDate(c.expiresAt),
      };
    }
    const c = expect(credentials, 'access-token', provider);
    return { kind: 'access-token', token: c.token, expiresAt: toDate(c.expiresAt) };
  }

  /** Git credentials for an https:// repository URL (Azure DevOps). */
  async getGitCredentials(url, call = {}) {
    const env = this.env(call);
    const options = sessionOptions(env, call);
    const c = expect(await this.run({ tag: 'git', val: url }, safeTarget(url), env, options, call), 'git', url);
    return { username: c.username, password: c.password, bearerToken: c.bearerToken, expiresAt: toDate(c.expiresAt) };
  }

  /**
   * Git credentials for a GitHub (Enterprise) https:// URL from a GitHub App's
   * installation token (user `x-access-token`). `app` holds Flux's secret keys:
   * `{ appId, privateKey (PEM text), installationId? | installationOwner?, baseUrl? }`.
   */
  async getGitHubAppCredentials(url, app, call = {}) {
    const env = this.env(call);
    const options = sessionOptions(env, call);
    const target = {
      tag: 'github-app',
      val: {
        url,
        appId: app.appId,
        installationId: app.installationId,
        installationOwner: app.installationOwner,
        privateKey: app.privateKey,
        baseUrl: app.baseUrl,
      },
    };
    const c = expect(await this.run(target, safeTarget(url), env, options, call), 'git', url);
    return { username: c.username, password: c.password, bearerToken: c.bearerToken, expiresAt: toDate(c.expiresAt) };
  }

  /** A REST config for a cluster: `{ provider, resourceId, address?, caData? }`. */
  async getRestConfig(cluster, call = {}) {
    const env = this.env(call);
    const options = sessionOptions(env, call);
    const target = { tag: 'cluster', val: cluster };
    const c = expect(await this.run(target, cluster.resourceId, env, options, call), 'rest-config', cluster.resourceId);
    return { host: c.host, caData: c.caData, bearerToken: c.bearerToken, expiresAt: toDate(c.expiresAt) };
  }

  /** Drops every cached credential. */
  clearCache() {
    this.cache.clear();
  }

  /** Starts a session; answers from the cache, or shares a running flow, or drives it. */
  async run(target, name, env, options, call) {
    const context = new StepContext(name);
    const request = { target, identity: sessionIdentity(call.identity), options, now: BigInt(this.now()) };
    let session;
    try {
      session = sessionApi.Session.start(request);
    } catch (e) {
      const error = witError(e);
      throw error ? context.componentError(error) : e;
    }
    let key;
    let owner = false;
    try {
      key = session.cacheKey();
      const cached = this.cache.get(key, this.now());
      if (cached) return cached;
      const running = this.inflight.get(key);
      if (running) return await running;
      const flow = this.drive(session, context, env, call).then((credentials) => {
        this.cache.set(key, credentials, expiresAt(credentials), this.now());
        return credentials;
      });
      this.inflight.set(key, flow);
      owner = true;
      return await flow;
    } finally {
      if (owner) this.inflight.delete(key);
      session[Symbol.dispose]();
    }
  }

  async drive(session, context, env, call) {
    const fetchImpl = call.fetch ?? this.settings.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: pass { fetch }');
    for (let i = 0; i < MAX_STEPS; i++) {
      const step = session.next();
      switch (step.tag) {
        case 'done':
          return step.val;
        case 'failed':
          throw context.componentError(step.val);
        case 'send-http': {
          context.sending(step.val);
          let response;
          try {
            response = await send(fetchImpl, step.val, env);
          } catch (e) {
            throw context.error('transport', e.message, { cause: e });
          }
          this.handOver(context, () => session.receiveHttp(response, BigInt(this.now())));
          break;
        }
        case 'fetch-identity-token': {
          context.fetchingToken(step.val);
          let token;
          try {
            token = await this.identityToken(step.val, call);
          } catch (e) {
            throw context.error('identity-token', e.message, { cause: e });
          }
          this.handOver(context, () => session.receiveIdentityToken(token, BigInt(this.now())));
          break;
        }
        case 'read-file': {
          // A missing file is an answer (the SDK chain goes on); other read
          // errors end the flow, naming the file.
          let contents;
          try {
            contents = await this.hostFile(step.val);
          } catch (e) {
            throw context.error('host', `cannot read ${step.val}: ${e.message}`, { cause: e });
          }
          this.handOver(context, () => session.receiveFile(contents, BigInt(this.now())));
          break;
        }
        default:
          throw context.error('host', `unknown step ${step.tag}`);
      }
    }
    throw context.error('host', `the flow did not finish within ${MAX_STEPS} steps`);
  }

  /** A file the flow names: its bytes, or undefined when it does not exist. */
  async hostFile(path) {
    const readFile = this.settings.readFile ?? platform.readFile;
    if (!readFile) throw new Error('no file system here (not Node): pass { readFile }');
    try {
      return new TextEncoder().encode(await readFile(path));
    } catch (e) {
      if (e && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  handOver(context, call) {
    try {
      call();
    } catch (e) {
      const error = witError(e);
      throw error ? context.componentError(error) : e;
    }
  }

  /**
   * The identity token a step asks for: `call.identityToken` (a string, or a
   * function of the request) if given; else a service account's token is
   * missing, and the host's own is read from `call.tokenFile` or the file
   * the flow names (the SDK convention, e.g. AWS_WEB_IDENTITY_TOKEN_FILE).
   */
  async identityToken(request, call) {
    const given = call.identityToken ?? this.settings.identityToken;
    if (typeof given === 'string') return given;
    if (typeof given === 'function') return String(await given(request));
    if (request.serviceAccount) {
      throw new Error("the flow needs the service account's token: pass { identityToken }");
    }
    const file = call.tokenFile ?? request.file;
    if (!file) {
      throw new Error(`the flow needs an identity token with audience ${request.audience} and names no token file: pass { identityToken } or { tokenFile }`);
    }
    const readFile = this.settings.readFile ?? platform.readFile;
    if (!readFile) throw new Error(`cannot read the token file ${file} here (not Node): pass { identityToken }`);
    let text;
    try {
      text = await readFile(file);
    } catch (e) {
      throw new Error(`cannot read the identity token file ${file}: ${e.code ?? e.message}`);
    }
    const token = String(text).trim();
    if (!token) throw new Error(`the identity token file ${file} is empty`);
    return token;
  }
}

function expiresAt(credentials) {
  return toSeconds(credentials.val.expiresAt);
}

function expect(credentials, tag, name) {
  if (credentials.tag !== tag) {
    throw new CloudauthError(`cloudauth: ${name}: the flow gave ${credentials.tag} credentials, not ${tag}`, { kind: 'host', target: name });
  }
  return credentials.val;
}

/** A reference fit for an error message: no userinfo, no control characters. */
function safeTarget(reference) {
  return String(reference).replace(/[\u0000-\u001f\u007f]/g, '?').replace(/\/\/[^/@]*@/, '//').replace(/^[^/@]*@/, '').slice(0, 200) || '""';
}
