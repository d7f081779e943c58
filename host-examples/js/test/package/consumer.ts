// A TypeScript program using the packed @cloudauth/cloudauth as a user
// would: `tsc --noEmit` type-checks it against the package's declarations,
// then it runs (compiled) against real servers on 127.0.0.1:
//   - the e2e's loopback registry (distribution with token auth, over TLS):
//     the generic flow, with the right and a wrong password;
//   - the Google metadata server fake: an Artifact Registry flow, then the
//     same call again, answered from the host-side cache.
// It prints one `ok:` line per check and exits non-zero on the first failure.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  Client,
  CloudauthError,
  explain,
  getRegistryCredentials,
  resolve,
  type AccessToken,
  type AwsCredentials,
  type RegistryCredentials,
} from '@cloudauth/cloudauth';

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run under host-examples/e2e/with_registry.sh`);
  return value;
}

const registry = need('CLOUDAUTH_E2E_REGISTRY');
const user = need('CLOUDAUTH_E2E_USER');
const password = need('CLOUDAUTH_E2E_PASSWORD');
const realmHost = need('CLOUDAUTH_E2E_REALM_HOST');
const metadataHost = need('CLOUDAUTH_E2E_METADATA_HOST');
const metadataToken = need('CLOUDAUTH_E2E_METADATA_TOKEN');
const metadataLog = need('CLOUDAUTH_E2E_METADATA_LOG');

// The pure calls, typed by the generated declarations.
const target = resolve.resolveRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app', undefined);
assert.equal(target.aws?.partition, 'aws-cn');
assert.equal(explain('myregistry.azurecr.io/app').audience, 'api://AzureADTokenExchange');
console.log('ok: resolve and explain');

// The generic flow against the loopback registry: GET /v2/, the Bearer
// challenge, the token request with basic credentials to the trusted realm.
const env = {
  CLOUDAUTH_REGISTRY_USERNAME: user,
  CLOUDAUTH_REGISTRY_PASSWORD: password,
  CLOUDAUTH_TRUSTED_REALM_HOSTS: realmHost,
};
const creds: RegistryCredentials = await getRegistryCredentials(`${registry}/e2e/hello:v1`, { env });
assert.deepEqual(creds, { registry, username: user, password, expiresAt: undefined });
console.log(`ok: loopback registry credentials for ${creds.registry} (user ${creds.username})`);

try {
  await getRegistryCredentials(`${registry}/e2e/hello:v1`, { env: { ...env, CLOUDAUTH_REGISTRY_PASSWORD: 'wrong' } });
  assert.fail('a wrong password gave credentials');
} catch (e) {
  assert.ok(e instanceof CloudauthError, String(e));
  assert.equal(e.kind, 'http-status');
  assert.equal(e.status, 401);
  assert.equal(e.step, 2);
  assert.equal(e.host, realmHost);
  assert.ok(!e.message.includes('wrong'), e.message);
  console.log(`ok: a wrong password fails: ${e.message}`);
}

// An Artifact Registry flow against the metadata server fake, reached as
// the Google SDKs reach a metadata server elsewhere: GCE_METADATA_HOST.
const client = new Client({ env: { GCE_METADATA_HOST: metadataHost } });
const requests = () => readFileSync(metadataLog, 'utf8').split('\n').filter((l) => l.includes('/token')).length;
const gar = await client.getRegistryCredentials('europe-docker.pkg.dev/my-project/repo/app:1');
assert.equal(gar.username, 'oauth2accesstoken');
assert.equal(gar.password, metadataToken);
assert.ok(gar.expiresAt && gar.expiresAt.getTime() > Date.now(), 'an expiry in the future');
const again = await client.getRegistryCredentials('europe-docker.pkg.dev/my-project/repo/app:1');
assert.equal(again.password, metadataToken);
assert.equal(requests(), 1, 'the second call came from the host cache');
console.log(`ok: Artifact Registry from the metadata fake, expires ${gar.expiresAt.toISOString()}, second call cached`);

const token: AccessToken | AwsCredentials = await client.getAccessToken('gcp');
assert.equal(token.kind, 'access-token');
if (token.kind === 'access-token') assert.equal(token.token, metadataToken);
console.log('ok: a Google access token');
