// Sends the component's requests with a `fetch` (the platform's, or one the
// caller injects: tests, edge runtimes, a fetch with a proxy or custom CA).
//
// Requests go out exactly as built, with redirects not followed (the
// component judges every status; a token must not follow a redirect to
// another host). The only rewrite is the one the Google SDKs make:
// `GCE_METADATA_HOST` (host[:port]) stands for `metadata.google.internal`
// in a plain-HTTP metadata URL.

import { redactUrl } from './errors.js';

/** The component refuses bodies over 1 MiB; one byte more lets it say so. */
export const MAX_BODY = (1 << 20) + 1;
/** How long one exchange may take. */
export const HTTP_TIMEOUT_MS = 30_000;

const GOOGLE_METADATA = 'metadata.google.internal';

/** The URL to fetch for a component request URL. */
export function routeUrl(url, env) {
  const override = env.GCE_METADATA_HOST;
  if (!override) return url;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || parsed.host !== GOOGLE_METADATA) return url;
  if (!/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/.test(override)) {
    throw new Error(`GCE_METADATA_HOST ${JSON.stringify(override)} is not a host[:port]`);
  }
  parsed.host = override;
  return parsed.toString();
}

async function readLimited(response) {
  if (!response.body) return new Uint8Array(await response.arrayBuffer()).slice(0, MAX_BODY);
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  while (length < MAX_BODY) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  if (length >= MAX_BODY) await reader.cancel().catch(() => {});
  const body = new Uint8Array(Math.min(length, MAX_BODY));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, body.length - offset);
    body.set(part, offset);
    offset += part.length;
    if (offset >= body.length) break;
  }
  return body;
}

/**
 * Sends one `http-request` and returns the `http-response`.
 * @param fetchImpl a WHATWG fetch
 * @param request the component's request
 * @param env the environment (for GCE_METADATA_HOST)
 */
export async function send(fetchImpl, request, env) {
  const url = routeUrl(request.url, env);
  const init = {
    method: request.method,
    headers: request.headers.map(([k, v]) => [k, v]),
    redirect: 'manual',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  };
  if (request.body.length > 0) init.body = request.body;
  let response;
  try {
    response = await fetchImpl(url, init);
  } catch (e) {
    const reason = e && e.cause && e.cause.message ? `${e.message}: ${e.cause.message}` : String(e && e.message ? e.message : e);
    throw new Error(`${request.method} ${redactUrl(url)} failed: ${reason}`);
  }
  const headers = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  return { status: response.status, headers, body: await readLimited(response) };
}
