// Types of the high-level API of @cloudauth/cloudauth. The component's own
// interfaces (`resolve`, `azure`, `aws`, `gcp`, ...) are typed by the
// declarations jco generates in ../generated/.

import type { Provider, AzureEnvironment, AzureCloud } from '../generated/interfaces/cloudauth-auth-types.js';
import type { AwsRegistry } from '../generated/interfaces/cloudauth-auth-resolve.js';
import type { IdentityTokenRequest } from '../generated/interfaces/cloudauth-auth-session.js';

export { resolve, azure, aws, gcp, sigv4, kubernetes, oci, session } from '../generated/cloudauth.js';
export type { Provider, AzureEnvironment, AzureCloud, AwsRegistry, IdentityTokenRequest };

/** What the API hands to `fetch`: redirects are never followed. */
export interface FetchInit {
  method: string;
  headers: Array<[string, string]>;
  body?: Uint8Array;
  redirect: 'manual';
  signal?: AbortSignal;
}

/** The part of a WHATWG `Response` the API reads. */
export interface FetchResponse {
  status: number;
  headers: { forEach(callback: (value: string, name: string) => void): void };
  body: {
    getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
  } | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A WHATWG fetch: the platform's `fetch`, or your own (tests, proxies, edge runtimes). */
export type Fetch = {
  // A method signature, so that the platform's fetch (wider parameters) fits.
  fetch(input: string, init: FetchInit): Promise<FetchResponse>;
}['fetch'];

/** Whose identity: the host's own, or a Kubernetes service account's. */
export type Identity =
  | 'controller'
  | {
      serviceAccount: {
        namespace: string;
        name: string;
        /** e.g. `eks.amazonaws.com/role-arn`, `iam.gke.io/gcp-service-account`. */
        annotations?: Record<string, string> | Array<[string, string]>;
      };
    };

/** Settings of one call. */
export interface CallOptions {
  /** Default: the host's own identity (`'controller'`). */
  identity?: Identity;
  /** The environment (the cloud SDKs' variables and `CLOUDAUTH_*`). Default: process.env in Node, `{}` elsewhere. */
  env?: Record<string, string | undefined>;
  /** The fetch to send requests with. Default: the client's, else `globalThis.fetch`. */
  fetch?: Fetch;
  /** The identity token, or a function giving it for a request. Default: read the token file. */
  identityToken?: string | ((request: IdentityTokenRequest) => string | Promise<string>);
  /** Read the host's identity token from this file instead of the one the flow names. */
  tokenFile?: string;
  /** Generic registries: basic credentials for the token server (default: `CLOUDAUTH_REGISTRY_USERNAME` / `_PASSWORD`). */
  registryUsername?: string;
  registryPassword?: string;
  /** Generic registries: token realm hosts that may receive them (default: `CLOUDAUTH_TRUSTED_REALM_HOSTS`). */
  trustedRealmHosts?: string[];
  /** A custom Azure cloud. */
  azureEnvironment?: AzureEnvironment;
  /** An explicit AWS STS endpoint (default: `CLOUDAUTH_STS_ENDPOINT`). */
  stsEndpoint?: string;
  /** Object-level workload identity (default: true for a service account). */
  objectLevelWorkloadIdentity?: boolean;
}

export interface AccessTokenOptions extends CallOptions {
  /** The scopes (default: the provider's). */
  scopes?: string[];
}

/** Settings shared by the calls of a client. */
export interface ClientSettings {
  fetch?: Fetch;
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => Promise<string>;
  identityToken?: CallOptions['identityToken'];
  /** Unix seconds. */
  now?: () => number;
  cacheCapacity?: number;
}

export interface RegistryCredentials {
  /** The registry host, lower case, with its port if any. */
  registry: string;
  username: string;
  password: string;
  expiresAt?: Date;
}

export interface AccessToken {
  kind: 'access-token';
  token: string;
  expiresAt: Date;
}

export interface AwsCredentials {
  kind: 'aws';
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: Date;
}

export interface GitCredentials {
  username: string;
  password: string;
  bearerToken: string;
  expiresAt: Date;
}

export interface Cluster {
  provider: Provider;
  /** AKS resource ID, EKS cluster ARN, or `projects/<p>/locations/<l>/clusters/<c>`. */
  resourceId: string;
  address?: string;
  caData?: string;
}

export interface RestConfig {
  host: string;
  caData?: string;
  bearerToken: string;
  expiresAt: Date;
}

export interface Explanation {
  provider: Provider;
  registry: string;
  azureCloud?: AzureCloud;
  aws?: AwsRegistry;
  /** The cloud token's scopes (none for AWS and generic registries). */
  scopes: string[];
  /** The service-account token audience, where the provider has a fixed one. */
  audience?: string;
}

export type FirstStep =
  | { action: 'send-http'; method: string; url: string }
  | { action: 'fetch-identity-token'; audience: string; serviceAccount?: [string, string]; file?: string }
  | { action: 'done' };

export interface Plan extends Explanation {
  cacheKey: string;
  firstStep: FirstStep;
}

export type ErrorKind =
  | 'invalid-input'
  | 'unsupported'
  | 'http-status'
  | 'malformed-response'
  | 'transport'
  | 'identity-token'
  | 'host';

/** Every failure of the high-level API: names the target, the step and the host. */
export class CloudauthError extends Error {
  kind: ErrorKind;
  target?: string;
  /** 1-based; 0 for the start of the session. */
  step?: number;
  action?: 'start' | 'send-http' | 'fetch-identity-token';
  /** The host of the request that failed, for a `send-http` step. */
  host?: string;
  /** For `http-status`: the status and the service's error code. */
  status?: number;
  code?: string;
}

/** A GitHub App, as Flux's secret keys name it. */
export interface GitHubApp {
  /** `githubAppID`. */
  appId: string;
  /** `githubAppPrivateKey`: the PEM text. */
  privateKey: string;
  /** `githubAppInstallationID`; give it or the owner. */
  installationId?: string;
  /** `githubAppInstallationOwner`. */
  installationOwner?: string;
  /** `githubAppBaseURL` (https only; default https://api.github.com). */
  baseUrl?: string;
}

export class Client {
  constructor(settings?: ClientSettings);
  getRegistryCredentials(reference: string, options?: CallOptions): Promise<RegistryCredentials>;
  getAccessToken(provider: Provider, options?: AccessTokenOptions): Promise<AccessToken | AwsCredentials>;
  getGitCredentials(url: string, options?: CallOptions): Promise<GitCredentials>;
  /** Git credentials from a GitHub App installation token (Flux's githubApp* keys). */
  getGitHubAppCredentials(url: string, app: GitHubApp, options?: CallOptions): Promise<GitCredentials>;
  getRestConfig(cluster: Cluster, options?: CallOptions): Promise<RestConfig>;
  clearCache(): void;
}

export const MAX_STEPS: number;

export function getDefaultClient(): Client;
export function getRegistryCredentials(reference: string, options?: CallOptions): Promise<RegistryCredentials>;
export function getAccessToken(provider: Provider, options?: AccessTokenOptions): Promise<AccessToken | AwsCredentials>;
export function getGitCredentials(url: string, options?: CallOptions): Promise<GitCredentials>;
export function getRestConfig(cluster: Cluster, options?: CallOptions): Promise<RestConfig>;
export function clearCache(): void;

/** What cloudauth resolves for a registry reference. Pure. */
export function explain(reference: string, options?: { azureEnvironment?: AzureEnvironment }): Explanation;
/** `explain`, plus the flow's first step for these settings. Pure: nothing is sent. */
export function plan(reference: string, options?: CallOptions): Plan;

export class CredentialCache {
  constructor(capacity?: number);
  get(key: string, now: number): unknown;
  set(key: string, value: unknown, expiresAt: number | undefined, now: number): void;
  clear(): void;
  readonly size: number;
}
