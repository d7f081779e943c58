// The high-level API (lib/), through the transpiled component, with an
// injected fetch standing in for the network: flows, the host-side cache,
// shared flows, errors that name the step and host, token files, and the
// pure calls. The same calls against real servers (the loopback registry,
// the metadata fake) run from the packed package: test/package/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client, CloudauthError, explain, plan, CredentialCache } from '../lib/node.js';

const NOW = 1705320000;
const GAR = 'europe-docker.pkg.dev/my-project/repo/app:1';
const REGISTRY = 'registry.example.test';
const encoder = new TextEncoder();

/** A fetch answering from `routes` (url prefix -> (url, init) => Response), recording every call. */
function fakeFetch(routes) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    for (const [prefix, answer] of Object.entries(routes)) {
      if (url.startsWith(prefix)) return answer(url, init);
    }
    throw new TypeError(`fetch failed`, { cause: new Error(`connect ECONNREFUSED for ${new URL(url).host}`) });
  };
  return { fetch, calls };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const metadataToken = (token, expiresIn = 3600) => () =>
  json(200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' }, { 'metadata-flavor': 'Google' });

const METADATA = 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token';

test('GAR from the metadata server: oauth2accesstoken and the token, with its expiry', async () => {
  const { fetch, calls } = fakeFetch({ [METADATA]: metadataToken('ya29.first') });
  const client = new Client({ fetch, env: {}, now: () => NOW });
  const creds = await client.getRegistryCredentials(GAR);
  assert.deepEqual(creds, {
    registry: 'europe-docker.pkg.dev',
    username: 'oauth2accesstoken',
    password: 'ya29.first',
    expiresAt: new Date((NOW + 3600) * 1000),
  });
  assert.equal(calls.length, 1);
  assert.equal(new Headers(calls[0].init.headers).get('metadata-flavor'), 'Google');
  assert.equal(calls[0].init.redirect, 'manual');
});

test('the host cache answers a second call without any request, until 80% of the lifetime', async () => {
  let now = NOW;
  let n = 0;
  const { fetch, calls } = fakeFetch({ [METADATA]: () => metadataToken(`ya29.token-${++n}`, 1000)() });
  const client = new Client({ fetch, env: {}, now: () => now });
  assert.equal((await client.getRegistryCredentials(GAR)).password, 'ya29.token-1');
  now += 799;
  assert.equal((await client.getRegistryCredentials(GAR)).password, 'ya29.token-1');
  assert.equal(calls.length, 1);
  now += 1;
  assert.equal((await client.getRegistryCredentials(GAR)).password, 'ya29.token-2');
  assert.equal(calls.length, 2);
  // Another identity or target is another key.
  await client.getAccessToken('gcp');
  assert.equal(calls.length, 3);
  client.clearCache();
  await client.getRegistryCredentials(GAR);
  assert.equal(calls.length, 4);
});

test('concurrent calls for one key share one flow', async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const { fetch, calls } = fakeFetch({ [METADATA]: async () => (await gate, metadataToken('ya29.shared')()) });
  const client = new Client({ fetch, env: {}, now: () => NOW });
  const all = Promise.all([1, 2, 3].map(() => client.getRegistryCredentials(GAR)));
  await new Promise((r) => setTimeout(r, 20));
  release();
  const results = await all;
  assert.deepEqual(results.map((c) => c.password), ['ya29.shared', 'ya29.shared', 'ya29.shared']);
  assert.equal(calls.length, 1);
});

test('GCE_METADATA_HOST routes the metadata requests, as the Google SDKs do', async () => {
  const { fetch, calls } = fakeFetch({ 'http://127.0.0.1:9999/computeMetadata/': metadataToken('ya29.routed') });
  const client = new Client({ fetch, now: () => NOW });
  const creds = await client.getRegistryCredentials(GAR, { env: { GCE_METADATA_HOST: '127.0.0.1:9999' } });
  assert.equal(creds.password, 'ya29.routed');
  assert.ok(calls[0].url.startsWith('http://127.0.0.1:9999/computeMetadata/v1/instance/service-accounts/default/token'));
  await assert.rejects(client.getAccessToken('gcp', { env: { GCE_METADATA_HOST: 'evil.example/x?' } }), /GCE_METADATA_HOST/);
});

test('a refused metadata request names the step, the request and the host', async () => {
  const { fetch } = fakeFetch({ [METADATA]: () => new Response('Forbidden', { status: 403 }) });
  const client = new Client({ fetch, env: {}, now: () => NOW });
  await assert.rejects(client.getRegistryCredentials(GAR), (e) => {
    assert.ok(e instanceof CloudauthError);
    assert.equal(e.kind, 'http-status');
    assert.equal(e.status, 403);
    assert.equal(e.step, 1);
    assert.equal(e.action, 'send-http');
    assert.equal(e.host, 'metadata.google.internal');
    assert.match(e.message, /^cloudauth: europe-docker\.pkg\.dev: step 1 GET http:\/\/metadata\.google\.internal\/computeMetadata\/v1\/instance\/service-accounts\/default\/token: http-status 403/);
    assert.doesNotMatch(e.message, /scopes=/, 'the query is not shown');
    return true;
  });
});

test('a network failure is a transport error naming the host', async () => {
  const { fetch } = fakeFetch({});
  const client = new Client({ fetch, env: {}, now: () => NOW });
  await assert.rejects(client.getRegistryCredentials(GAR), (e) => {
    assert.equal(e.kind, 'transport');
    assert.equal(e.host, 'metadata.google.internal');
    assert.match(e.message, /step 1 GET .*metadata\.google\.internal.*ECONNREFUSED/);
    return true;
  });
});

test('a generic registry: challenge, token request with the configured credentials, and those credentials back', async () => {
  const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  const { fetch, calls } = fakeFetch({
    [`https://${REGISTRY}/v2/`]: () =>
      new Response('{}', { status: 401, headers: { 'www-authenticate': `Bearer realm="https://${REGISTRY}/token",service="reg"` } }),
    [`https://${REGISTRY}/token`]: (url, init) =>
      new Headers(init.headers).get('authorization') === basic ? json(200, { token: 'reg-token', expires_in: 300 }) : json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }),
  });
  const client = new Client({ fetch, env: { CLOUDAUTH_REGISTRY_USERNAME: 'alice', CLOUDAUTH_REGISTRY_PASSWORD: 's3cret' }, now: () => NOW });
  const creds = await client.getRegistryCredentials(`${REGISTRY}/team/app:v1`);
  assert.deepEqual(creds, { registry: REGISTRY, username: 'alice', password: 's3cret', expiresAt: undefined });
  assert.equal(calls.length, 2);
  await assert.rejects(client.getRegistryCredentials(`${REGISTRY}/team/app:v1`, { registryPassword: 'wrong' }), (e) => {
    assert.equal(e.kind, 'http-status');
    assert.equal(e.step, 2);
    assert.equal(e.host, REGISTRY);
    assert.match(e.message, new RegExp(`step 2 GET https://${REGISTRY}/token: http-status 401`));
    assert.doesNotMatch(e.message, /wrong|s3cret/);
    return true;
  });
});

test('a generic registry without configured credentials is unsupported, with no request', async () => {
  const { fetch, calls } = fakeFetch({});
  const client = new Client({ fetch, env: {}, now: () => NOW });
  await assert.rejects(client.getRegistryCredentials('ghcr.io/o/app'), (e) => e.kind === 'unsupported' && /ghcr\.io is not a cloud registry/.test(e.message));
  assert.equal(calls.length, 0);
});

test('bad input fails at the start, and userinfo is not echoed', async () => {
  const client = new Client({ fetch: fakeFetch({}).fetch, env: {} });
  await assert.rejects(client.getRegistryCredentials('user:hunter2@myregistry.azurecr.io/app'), (e) => {
    assert.equal(e.kind, 'invalid-input');
    assert.equal(e.step, 0);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });
});

test('identity token files: the file the flow names (AZURE_FEDERATED_TOKEN_FILE), read in Node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudauth-js-'));
  try {
    const file = join(dir, 'token');
    writeFileSync(file, 'header.payload.signature\n');
    let assertion;
    const { fetch } = fakeFetch({
      'https://login.microsoftonline.com/': (url, init) => {
        assertion = new URLSearchParams(new TextDecoder().decode(init.body)).get('client_assertion');
        return json(401, { error: 'invalid_client', error_description: 'AADSTS700016: no such app' });
      },
    });
    const env = { AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: '72f988bf-0000-4000-8000-00000000a11e', AZURE_FEDERATED_TOKEN_FILE: file };
    const client = new Client({ fetch, env, now: () => NOW });
    await assert.rejects(client.getRegistryCredentials('myregistry.azurecr.io/app'), (e) => {
      assert.equal(e.step, 2, e.message);
      assert.equal(e.host, 'login.microsoftonline.com');
      assert.equal(e.code, 'invalid_client');
      return true;
    });
    assert.equal(assertion, 'header.payload.signature', 'the token file was read and trimmed');
    // A missing file: the identity-token step fails and names the file.
    await assert.rejects(client.getRegistryCredentials('myregistry.azurecr.io/app', { env: { ...env, AZURE_FEDERATED_TOKEN_FILE: join(dir, 'missing') } }), (e) => {
      assert.equal(e.kind, 'identity-token');
      assert.equal(e.step, 1);
      assert.match(e.message, /cannot read the identity token file .*missing: ENOENT/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a service account's token must be given", async () => {
  const client = new Client({ fetch: fakeFetch({}).fetch, env: {}, now: () => NOW });
  const identity = { serviceAccount: { namespace: 'default', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/r' } } };
  await assert.rejects(client.getRegistryCredentials('123456789012.dkr.ecr.us-east-1.amazonaws.com/app', { identity, env: { AWS_REGION: 'us-east-1' } }), (e) => {
    assert.equal(e.kind, 'identity-token');
    assert.match(e.message, /service account default\/app, audience sts\.amazonaws\.com.*pass \{ identityToken \}/);
    return true;
  });
});

test('explain and plan are pure', () => {
  assert.deepEqual(explain('myregistry.azurecr.io/app:v1'), {
    provider: 'azure',
    registry: 'myregistry.azurecr.io',
    azureCloud: 'azure-public',
    aws: undefined,
    scopes: ['https://containerregistry.azure.net/.default'],
    audience: 'api://AzureADTokenExchange',
  });
  const ecr = explain('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app');
  assert.equal(ecr.aws.partition, 'aws-us-gov');
  assert.deepEqual(ecr.scopes, []);
  const gar = plan(GAR);
  assert.equal(gar.provider, 'gcp');
  assert.equal(gar.audience, undefined);
  assert.match(gar.cacheKey, /^[0-9a-f]{64}$/);
  assert.deepEqual(gar.firstStep, { action: 'send-http', method: 'GET', url: METADATA });
  assert.throws(() => explain(''), (e) => e instanceof CloudauthError && e.kind === 'invalid-input');
});

test('the cache: capacity, expiry-less and expired credentials are not stored', () => {
  const cache = new CredentialCache(2);
  cache.set('a', 1, NOW + 100, NOW);
  cache.set('b', 2, undefined, NOW);
  cache.set('c', 3, NOW, NOW);
  assert.equal(cache.size, 1);
  cache.set('d', 4, NOW + 100000, NOW);
  assert.equal(cache.get('d', NOW + 3599), 4, 'at most one hour');
  assert.equal(cache.get('d', NOW + 3600), undefined);
  cache.set('e', 5, NOW + 100, NOW);
  cache.set('f', 6, NOW + 100, NOW);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a', NOW), undefined, 'least recently used evicted');
});

const AZURE_ENV = { AZURE_CLIENT_ID: '0d0e0a0d-beef-4000-8000-00000000c1d0', AZURE_TENANT_ID: '72f988bf-0000-4000-8000-00000000a11e', AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' };
const FAKE_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xvdWRhdXRoIGZha2UgY2EwCgYIKoZIzj0EAwIwADAeFw0y\n-----END CERTIFICATE-----\n';

test('Git credentials for Azure DevOps: an Entra token for the DevOps scope', async () => {
  const forms = [];
  const { fetch } = fakeFetch({
    'https://login.microsoftonline.com/': (url, init) => {
      forms.push(Object.fromEntries(new URLSearchParams(new TextDecoder().decode(init.body))));
      return json(200, { access_token: 'devops-token', expires_in: 3600, token_type: 'Bearer' });
    },
  });
  const client = new Client({ fetch, env: AZURE_ENV, identityToken: 'header.payload.signature', now: () => NOW });
  const git = await client.getGitCredentials('https://dev.azure.com/org/project/_git/repo');
  assert.deepEqual(git, { username: 'azure-devops', password: 'devops-token', bearerToken: 'devops-token', expiresAt: new Date((NOW + 3600) * 1000) });
  // Azure DevOps' resource ID, as Microsoft documents it for Entra tokens.
  assert.equal(forms[0].scope, '499b84ac-1321-427f-aa17-267ca6975798/.default');
  assert.equal(forms[0].client_assertion, 'header.payload.signature');
  await assert.rejects(client.getGitCredentials('https://github.com/o/r'), (e) => e.kind === 'unsupported' && e.step === 0);
});

test('Git credentials from a GitHub App: the installation by owner, then the token (GitHub REST docs)', async () => {
  const { readFileSync } = await import('node:fs');
  const key = readFileSync(new URL('../../../tests/data/test-rsa-pkcs1.pem', import.meta.url), 'utf8');
  const { fetch, calls } = fakeFetch({
    'https://api.github.com/orgs/octocat/installation': () => json(404, { message: 'Not Found' }),
    'https://api.github.com/users/octocat/installation': () => json(200, { id: 4242, account: { login: 'octocat' } }),
    'https://api.github.com/app/installations/4242/access_tokens': () =>
      json(201, { token: 'ghs_16C7e42F292c6912E7710c838347Ae178B4a', expires_at: '2024-01-15T13:00:00Z' }),
  });
  const client = new Client({ fetch, env: {}, now: () => NOW });
  const git = await client.getGitHubAppCredentials('https://github.com/octocat/hello.git', { appId: '123456', privateKey: key, installationOwner: 'octocat' });
  assert.deepEqual(git, { username: 'x-access-token', password: 'ghs_16C7e42F292c6912E7710c838347Ae178B4a', bearerToken: '', expiresAt: new Date((NOW + 3600) * 1000) });
  assert.deepEqual(calls.map((c) => `${c.init.method} ${c.url}`), [
    'GET https://api.github.com/orgs/octocat/installation',
    'GET https://api.github.com/users/octocat/installation',
    'POST https://api.github.com/app/installations/4242/access_tokens',
  ]);
  const jwt = new Headers(calls[2].init.headers).get('authorization').replace('Bearer ', '');
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
  assert.deepEqual(claims, { exp: NOW + 90, iat: NOW - 30, iss: '123456' });
  await assert.rejects(
    client.getGitHubAppCredentials('https://gitlab.example/o/r', { appId: '1', privateKey: key, installationId: '2' }),
    (e) => e.kind === 'invalid-input',
  );
});

test('a REST config for EKS with a known address and CA: a presigned GetCallerIdentity token, no request', async () => {
  const { fetch, calls } = fakeFetch({});
  const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_REGION: 'us-east-1' };
  const client = new Client({ fetch, env, now: () => NOW });
  const address = 'https://ABCDEF0123.gr7.us-east-1.eks.amazonaws.com';
  const config = await client.getRestConfig({ provider: 'aws', resourceId: 'arn:aws:eks:us-east-1:123456789012:cluster/demo', address, caData: FAKE_PEM });
  assert.equal(config.host, address);
  assert.equal(config.caData, FAKE_PEM);
  assert.equal(calls.length, 0);
  // The token format aws-iam-authenticator and `aws eks get-token` use.
  assert.ok(config.bearerToken.startsWith('k8s-aws-v1.'));
  const presigned = new URL(Buffer.from(config.bearerToken.slice('k8s-aws-v1.'.length), 'base64url').toString());
  assert.equal(presigned.host, 'sts.us-east-1.amazonaws.com');
  assert.equal(presigned.searchParams.get('Action'), 'GetCallerIdentity');
  assert.equal(presigned.searchParams.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id');
  assert.ok(config.expiresAt > new Date(NOW * 1000));
});

test('HOME finds ~/.aws/credentials as the SDK chain does: the component lists HOME among the variables it reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudauth-js-home-'));
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, '.aws'));
    writeFileSync(join(dir, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIAFROMHOMEFILE\naws_secret_access_key = secret-from-the-file\n');
    // GetAuthorizationToken's answer, as the ECR API reference documents it.
    const { fetch, calls } = fakeFetch({
      'https://api.ecr.eu-west-1.amazonaws.com/': () =>
        json(200, { authorizationData: [{ authorizationToken: btoa('AWS:ecr-password'), expiresAt: NOW + 43200, proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' }] }),
    });
    const client = new Client({ fetch, env: { HOME: dir, GITHUB_TOKEN: 'unrelated' }, now: () => NOW });
    const creds = await client.getRegistryCredentials('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1');
    assert.equal(creds.username, 'AWS');
    assert.equal(creds.password, 'ecr-password');
    assert.equal(calls.length, 1);
    assert.match(new Headers(calls[0].init.headers).get('authorization'), /Credential=AKIAFROMHOMEFILE\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
