// The calls the browser test makes: the pure calls (resolve, explain,
// plan, request building) and one flow with an injected fetch. browser.js
// runs them in headless Chromium (bundled by esbuild from the installed
// package), node.js in Node; check.py compares the two.

import { explain, plan, resolve, azure, aws, Client } from '@cloudauth/cloudauth';

export async function collect() {
  const result = {};
  result.resolved = resolve.resolveRegistry('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app', undefined);
  result.explained = explain('myregistry.azurecr.cn/app:v1');
  result.planned = plan('europe-docker.pkg.dev/p/r/app');
  const entra = azure.entraTokenRequest({ tag: 'cloud', val: 'azure-public' }, '72f988bf-0000-4000-8000-00000000a11e', 'client', 'https://containerregistry.azure.net/.default', 'a.b.c');
  result.entra = { method: entra.method, url: entra.url, form: Object.fromEntries(new URLSearchParams(new TextDecoder().decode(entra.body))) };
  const endpoint = aws.resolveEndpoint('ecr', 'cn-north-1', { fips: false, dualstack: true, legacy: false });
  result.ecrEndpoint = endpoint;
  const calls = [];
  const client = new Client({
    env: {},
    now: () => 1705320000,
    fetch: async (url, init) => {
      calls.push([init.method, url.split('?')[0]]);
      return new Response(JSON.stringify({ access_token: 'ya29.browser', expires_in: 3600, token_type: 'Bearer' }), { status: 200 });
    },
  });
  const gar = await client.getRegistryCredentials('europe-docker.pkg.dev/p/r/app');
  await client.getRegistryCredentials('europe-docker.pkg.dev/p/r/app');
  result.flow = { username: gar.username, password: gar.password, expiresAt: gar.expiresAt.toISOString(), calls };
  try {
    await new Client({ env: { AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/var/run/token' }, fetch: async () => { throw new Error('no'); } }).getRegistryCredentials('r.azurecr.io/app');
  } catch (e) {
    result.noFiles = { kind: e.kind, message: e.message };
  }
  return JSON.parse(JSON.stringify(result, (k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}
