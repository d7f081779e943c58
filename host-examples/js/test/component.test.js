// The cloudauth component, called from JavaScript through jco.
//
// `npm test` transpiles target/cloudauth.wasm into generated/ first; every
// test here goes through that transpiled component.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { resolve, azure, oci, aws, gcp, sigv4, session } from '../generated/cloudauth.js';
import { drive, CloudauthError } from '../drive.js';

const NOW = 1705320000n;
const TENANT = '72f988bf-0000-4000-8000-00000000a11e';
const CLIENT = '0d0e0a0d-beef-4000-8000-00000000c1d0';
const ACR_SCOPE = 'https://containerregistry.azure.net/.default';
const ACR_USER = '00000000-0000-0000-0000-000000000000';
const NO_ENDPOINT_OPTIONS = { fips: false, dualstack: false, legacy: false };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const b64url = (s) => Buffer.from(s).toString('base64url');
/** An unsigned JWT-shaped token: the component reads claims, never verifies. */
const fakeJwt = (claims) => `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.${b64url('fake-signature')}`;

function header(request, name) {
  const values = request.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  assert.equal(values.length, 1, `header ${name} present ${values.length} times`);
  return values[0];
}

function form(request) {
  const params = new URLSearchParams(decoder.decode(request.body));
  const fields = Object.fromEntries(params);
  assert.equal(Object.keys(fields).length, [...params].length, 'a form field is repeated');
  return fields;
}

function response(status, body, headers = []) {
  const bytes = body instanceof Uint8Array ? body : encoder.encode(typeof body === 'string' ? body : JSON.stringify(body));
  return { status, headers, body: bytes };
}

/** Asserts that `fn` throws the component's error of this kind (and status/code). */
function assertError(fn, kind, { status, code } = {}) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown, `expected a ${kind} error`);
  const error = thrown instanceof CloudauthError ? { tag: thrown.kind, val: thrown.payload } : thrown.payload;
  assert.ok(error, `not a component error: ${thrown}`);
  assert.equal(error.tag, kind, `error was ${JSON.stringify(error)}`);
  if (status !== undefined) assert.equal(error.val.status, status);
  if (code !== undefined) assert.equal(error.val.code, code);
  return error;
}

// --- resolve ---------------------------------------------------------------------------------

test('resolves an ACR reference', () => {
  assert.deepEqual(resolve.resolveRegistry('myregistry.azurecr.io/app:v1'), {
    provider: 'azure',
    registry: 'myregistry.azurecr.io',
    azureCloud: 'azure-public',
    aws: undefined,
  });
});

test('resolves an ECR reference with its account, region and partition', () => {
  const target = resolve.resolveRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app');
  assert.equal(target.provider, 'aws');
  assert.deepEqual(target.aws, { accountId: '123456789012', region: 'cn-north-1', partition: 'aws-cn', fips: false, public: false });
});

test('resolves Artifact Registry', () => {
  const target = resolve.resolveRegistry('europe-west1-docker.pkg.dev/my-project/repo/app:1');
  assert.equal(target.provider, 'gcp');
  assert.equal(target.registry, 'europe-west1-docker.pkg.dev');
});

test('look-alike hosts are generic', () => {
  for (const [reference, registry] of [
    ['myregistry.azurecr.io.evil.example/app', 'myregistry.azurecr.io.evil.example'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app', '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example'],
    ['gcr.io.evil.example/p/app', 'gcr.io.evil.example'],
  ]) {
    const target = resolve.resolveRegistry(reference);
    assert.equal(target.provider, 'generic', reference);
    assert.equal(target.registry, registry);
  }
});

test('hostile references are invalid input, and userinfo is not echoed', () => {
  for (const reference of ['', 'user:pass@myregistry.azurecr.io/app', 'myregistry.azurecr.io/app\n:v1']) {
    const error = assertError(() => resolve.resolveRegistry(reference), 'invalid-input');
    assert.ok(!error.val.includes('pass'), error.val);
  }
});

test('registry scopes and service-account audiences', () => {
  assert.deepEqual(resolve.registryScopes('myregistry.azurecr.io/app'), [ACR_SCOPE]);
  assertError(() => resolve.registryScopes('ghcr.io/o/app'), 'unsupported');
  assert.equal(resolve.serviceAccountAudience('azure'), 'api://AzureADTokenExchange');
  assert.equal(resolve.serviceAccountAudience('aws'), 'sts.amazonaws.com');
});

// --- Azure -----------------------------------------------------------------------------------

test('builds an Entra client-assertion token request', () => {
  const assertion = fakeJwt({ aud: ['api://AzureADTokenExchange'], sub: 'system:serviceaccount:default:sa' });
  const request = azure.entraTokenRequest({ tag: 'cloud', val: 'azure-public' }, TENANT, CLIENT, ACR_SCOPE, assertion);
  assert.equal(request.method, 'POST');
  assert.equal(request.url, `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
  assert.equal(header(request, 'Content-Type'), 'application/x-www-form-urlencoded');
  assert.deepEqual(form(request), {
    client_assertion: assertion,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_id: CLIENT,
    grant_type: 'client_credentials',
    scope: ACR_SCOPE,
  });
});

test('refuses a plain-http authority host without echoing the assertion', () => {
  const error = assertError(
    () => azure.entraTokenRequest({ tag: 'host', val: 'http://login.microsoftonline.com' }, TENANT, CLIENT, ACR_SCOPE, 'secret-assertion'),
    'invalid-input',
  );
  assert.ok(!error.val.includes('secret-assertion'));
});

test('parses an Entra token response', () => {
  const token = fakeJwt({ aud: 'https://containerregistry.azure.net', exp: 4102444800 });
  const parsed = azure.parseEntraToken(response(200, { token_type: 'Bearer', expires_in: 3599, access_token: token }), NOW);
  assert.deepEqual(parsed, { token, expiresAt: NOW + 3599n });
});

test('an Entra error carries the service code and description, not the rest of the body', () => {
  const body = { error: 'invalid_client', error_description: 'AADSTS700213: No matching federated identity record found', trace_id: '0a1b2c3d-trace' };
  const error = assertError(() => azure.parseEntraToken(response(400, body), NOW), 'http-status', { status: 400, code: 'invalid_client' });
  assert.equal(error.val.message, 'AADSTS700213: No matching federated identity record found');
  assert.ok(!JSON.stringify(error).includes('0a1b2c3d-trace'));
});

test('error bodies that are not the protocol are not echoed', () => {
  const echoed = '<html>upstream echoed your request: client_assertion=hunter2-secret</html>';
  const error = assertError(() => azure.parseEntraToken(response(502, echoed), NOW), 'http-status', { status: 502, code: undefined });
  assert.ok(!JSON.stringify(error).includes('hunter2-secret'));
  const truncated = assertError(() => azure.parseEntraToken(response(200, '{"access_token": "hunter2-secret", "expires_in": "soon"'), NOW), 'malformed-response');
  assert.ok(!truncated.val.includes('hunter2-secret'));
});

test('a 2xx Entra answer that is not JSON is malformed', () => {
  assertError(() => azure.parseEntraToken(response(200, '<html>proxy</html>'), NOW), 'malformed-response');
});

test('ACR exchange request and response', () => {
  const request = azure.acrExchangeRequest('myregistry.azurecr.io', 'entra-access-token');
  assert.equal(request.url, 'https://myregistry.azurecr.io/oauth2/exchange?api-version=2021-07-01');
  const fields = form(request);
  assert.equal(fields.grant_type, 'access_token');
  assert.equal(fields.service, 'myregistry.azurecr.io');
  assert.equal(fields.access_token, 'entra-access-token');
  const refresh = fakeJwt({ exp: 4102444800, aud: 'myregistry.azurecr.io' });
  assert.deepEqual(azure.parseAcrExchange(response(200, { refresh_token: refresh }), NOW), {
    username: ACR_USER,
    password: refresh,
    expiresAt: 4102444800n,
  });
  const unauthorized = response(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
  assertError(() => azure.parseAcrExchange(unauthorized, NOW), 'http-status', { status: 401, code: 'UNAUTHORIZED' });
});

test('fixed Azure scopes', () => {
  assert.equal(azure.aksScope(), '6dae42f8-4368-4678-94ff-3960e28e3630/.default');
  assert.equal(azure.devopsScope(), '499b84ac-1321-427f-aa17-267ca6975798/.default');
});

// --- OCI -------------------------------------------------------------------------------------

test('parses a WWW-Authenticate challenge', () => {
  assert.deepEqual(oci.parseChallenge('Bearer realm="https://registry.example.test/token",service="registry.example.test",scope="repository:foo:pull"'), {
    scheme: 'Bearer',
    realm: 'https://registry.example.test/token',
    service: 'registry.example.test',
    scopes: ['repository:foo:pull'],
  });
});

test('registry token request with basic credentials, and the 60 s default lifetime', () => {
  const request = oci.tokenRequest('https://registry.example.test/token', 'registry.example.test', ['repository:team/app:pull'], 'wirecap', 's3cr3t-p@ss');
  const url = new URL(request.url);
  assert.equal(url.origin + url.pathname, 'https://registry.example.test/token');
  assert.deepEqual([...url.searchParams], [['service', 'registry.example.test'], ['scope', 'repository:team/app:pull']]);
  assert.equal(header(request, 'Authorization'), `Basic ${Buffer.from('wirecap:s3cr3t-p@ss').toString('base64')}`);
  assert.deepEqual(oci.parseToken(response(200, { access_token: 'registry-token' }), NOW), { token: 'registry-token', expiresAt: NOW + 60n });
});

// --- AWS and GCP -----------------------------------------------------------------------------

test('SigV4 matches the AWS suite (get-vanilla-query-order-key-case)', () => {
  const signature = 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500';
  const request = { method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1', headers: [['Host', 'example.amazonaws.com']], body: new Uint8Array() };
  const params = {
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    region: 'us-east-1',
    service: 'service',
    now: 1440938160n, // 20150830T123600Z
    normalizePath: true,
    signBodyHeader: false,
    unsignedHeaders: [],
    omitSessionToken: false,
  };
  const signed = sigv4.signRequest(request, params);
  assert.equal(signed.signature, signature);
  assert.equal(header(signed.request, 'X-Amz-Date'), '20150830T123600Z');
  assert.equal(
    header(signed.request, 'Authorization'),
    `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
  );
  // sign-headers: only what signing sets, the same values, in order.
  assert.deepEqual(sigv4.signHeaders(request, params), [
    ['X-Amz-Date', '20150830T123600Z'],
    ['Authorization', header(signed.request, 'Authorization')],
  ]);
});

test('AWS endpoints, and a region that is not one', () => {
  assert.deepEqual(aws.resolveEndpoint('sts', 'eu-west-1', NO_ENDPOINT_OPTIONS), { url: 'https://sts.eu-west-1.amazonaws.com', signingRegion: 'eu-west-1' });
  assertError(() => aws.resolveEndpoint('sts', 'eu-west-1.evil.example/', NO_ENDPOINT_OPTIONS), 'invalid-input');
});

test('GCP docker credentials', () => {
  assert.deepEqual(gcp.dockerCredentials({ token: 'ya29.token', expiresAt: NOW + 3600n }), {
    username: 'oauth2accesstoken',
    password: 'ya29.token',
    expiresAt: NOW + 3600n,
  });
});

// --- session ---------------------------------------------------------------------------------

function options(environment = [], username, password) {
  return { environment, objectLevelWorkloadIdentity: false, registryUsername: username, registryPassword: password, trustedRealmHosts: [], skipCache: true };
}

/** Answers requests from a table keyed by "METHOD URL-without-query"; records them. */
function fakeCloud(routes) {
  const requests = [];
  const send = (request) => {
    requests.push(request);
    const url = new URL(request.url);
    const key = `${request.method} ${url.origin}${url.pathname}`;
    assert.ok(key in routes, `unexpected request ${key}`);
    const route = routes[key];
    return typeof route === 'function' ? route(request) : route;
  };
  return { send, requests };
}

test('session: a hostile target fails at start', () => {
  const request = { target: { tag: 'registry', val: 'myregistry.azurecr.io/app\r\nX: y' }, identity: { tag: 'controller' }, options: options(), now: NOW };
  assertError(() => session.Session.start(request), 'invalid-input');
});

test('session: Azure workload identity for ACR runs to done', async () => {
  const tokenFile = '/var/run/secrets/azure/tokens/azure-identity-token';
  const environment = [
    ['AZURE_CLIENT_ID', CLIENT],
    ['AZURE_TENANT_ID', TENANT],
    ['AZURE_FEDERATED_TOKEN_FILE', tokenFile],
    ['AZURE_AUTHORITY_HOST', 'https://login.microsoftonline.com/'],
  ];
  const assertion = fakeJwt({ aud: ['api://AzureADTokenExchange'], sub: 'system:serviceaccount:flux-system:source-controller' });
  const entraToken = fakeJwt({ aud: 'https://containerregistry.azure.net', exp: Number(NOW) + 3600 });
  const refresh = fakeJwt({ aud: 'myregistry.azurecr.io', exp: Number(NOW) + 10800 });
  const cloud = fakeCloud({
    [`POST https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`]: (request) => {
      const fields = form(request);
      assert.equal(fields.client_assertion, assertion);
      assert.equal(fields.scope, ACR_SCOPE);
      return response(200, { token_type: 'Bearer', expires_in: 3599, access_token: entraToken });
    },
    'POST https://myregistry.azurecr.io/oauth2/exchange': (request) => {
      assert.equal(form(request).access_token, entraToken);
      return response(200, { refresh_token: refresh });
    },
  });
  const asked = [];
  const flow = session.Session.start({ target: { tag: 'registry', val: 'myregistry.azurecr.io/app:v1' }, identity: { tag: 'controller' }, options: options(environment), now: NOW });
  const result = await drive(flow, {
    sendHttp: cloud.send,
    fetchIdentityToken: (request) => {
      asked.push(request);
      return assertion;
    },
    now: () => NOW,
  });
  assert.equal(flow.cacheKey().length, 64);
  assert.equal(flow.fromCache(), false);
  flow[Symbol.dispose]();
  assert.deepEqual(asked, [{ audience: 'api://AzureADTokenExchange', serviceAccount: undefined, file: tokenFile }]);
  assert.deepEqual(result, { tag: 'registry', val: { username: ACR_USER, password: refresh, expiresAt: NOW + 10800n } });
});

test('session: a generic registry with basic credentials runs to done', async () => {
  const registry = 'registry.example.test:5000';
  const token = fakeJwt({ iss: 'token-server', exp: Number(NOW) + 300, access: [] });
  const basic = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
  const cloud = fakeCloud({
    [`GET https://${registry}/v2/`]: (request) => {
      const auth = request.headers.filter(([k]) => k.toLowerCase() === 'authorization').map(([, v]) => v);
      if (auth.length === 1 && auth[0] === `Bearer ${token}`) return response(200, '{}');
      return response(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, [
        ['WWW-Authenticate', `Bearer realm="https://${registry}/token",service="${registry}"`],
      ]);
    },
    [`GET https://${registry}/token`]: (request) => {
      assert.equal(header(request, 'Authorization'), basic);
      return response(200, { token, expires_in: 300 });
    },
  });
  const flow = session.Session.start({
    target: { tag: 'registry', val: `${registry}/team/app:1` },
    identity: { tag: 'controller' },
    options: options([], 'alice', 'wonderland'),
    now: NOW,
  });
  const result = await drive(flow, {
    sendHttp: cloud.send,
    fetchIdentityToken: (request) => assert.fail(`no identity token expected: ${JSON.stringify(request)}`),
    now: () => NOW,
  });
  flow[Symbol.dispose]();
  assert.equal(result.tag, 'registry');
  assert.ok(result.val.username && result.val.password);
  for (const sent of cloud.requests) assert.equal(new URL(sent.url).host, registry);
});

test('session: a failed step carries the service error', async () => {
  const environment = [
    ['AZURE_CLIENT_ID', CLIENT],
    ['AZURE_TENANT_ID', TENANT],
    ['AZURE_FEDERATED_TOKEN_FILE', '/var/run/secrets/azure/tokens/azure-identity-token'],
  ];
  const cloud = fakeCloud({
    [`POST https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`]: response(400, { error: 'invalid_client', error_description: 'AADSTS700213' }),
  });
  const flow = session.Session.start({ target: { tag: 'registry', val: 'myregistry.azurecr.io/app' }, identity: { tag: 'controller' }, options: options(environment), now: NOW });
  await assert.rejects(drive(flow, { sendHttp: cloud.send, fetchIdentityToken: () => fakeJwt({ sub: 'x' }), now: () => NOW }), (e) => {
    assert.ok(e instanceof CloudauthError, `${e}: ${JSON.stringify(e.payload)}`);
    assert.equal(e.kind, 'http-status');
    assert.equal(e.payload.status, 400);
    assert.equal(e.payload.code, 'invalid_client');
    return true;
  });
  flow[Symbol.dispose]();
});

test('session: a read-file step is answered by drive (EKS Pod Identity token file)', async () => {
  const token = fakeJwt({ aud: ['pods.eks.amazonaws.com'], exp: Number(NOW) + 3600 });
  const tokenFile = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token';
  const agent = 'http://169.254.170.23/v1/credentials';
  const cloud = fakeCloud({
    [`GET ${agent}`]: (request) => {
      assert.equal(header(request, 'Authorization'), token);
      return response(200, { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 's', Token: 't', Expiration: '2100-01-01T00:00:00Z' });
    },
  });
  const environment = [
    ['AWS_REGION', 'us-east-1'],
    ['AWS_CONTAINER_CREDENTIALS_FULL_URI', agent],
    ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', tokenFile],
  ];
  const start = () =>
    session.Session.start({ target: { tag: 'access-token', val: ['aws', []] }, identity: { tag: 'controller' }, options: options(environment), now: NOW });
  const read = [];
  const flow = start();
  const result = await drive(flow, {
    sendHttp: cloud.send,
    fetchIdentityToken: () => assert.fail('no identity token expected'),
    now: () => NOW,
    readFile: (path) => {
      read.push(path);
      return encoder.encode(token);
    },
  });
  flow[Symbol.dispose]();
  assert.deepEqual(read, [tokenFile]);
  assert.equal(result.tag, 'aws');
  assert.equal(result.val.accessKeyId, 'ASIAEXAMPLE');

  // A missing file is an answer too; for this source it is an error naming it.
  const missing = start();
  await assert.rejects(
    drive(missing, { sendHttp: cloud.send, fetchIdentityToken: () => assert.fail('no token'), now: () => NOW, readFile: () => undefined }),
    (e) => e instanceof CloudauthError && e.kind === 'invalid-input' && String(e.payload).includes('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'),
  );
  missing[Symbol.dispose]();
});
