#!/usr/bin/env python3
"""The load driver of the mirror benchmark (docs/benchmarks.md): N
concurrent image pulls, directly against the registry and then through
cloudauth-proxy's mirrors, in one run.

A pull is what a client does for a one-layer image: GET the manifest, then
GET the config and the layer blob, each body checked against its digest.
Direct pulls carry a registry token fetched beforehand for their repository
(as a client that already logged in); mirror pulls carry nothing.

Every pull of a phase is in flight at once (one task each). They run on
``--clients`` simulated clients (nodes; half per identity), each with its
own keep-alive pool of ``--pool`` connections, as containerd or docker
reuse connections: a request waits for one of its client's connections.

Set-up makes ``--repos`` repositories per identity (``load-a/rN`` from
``team-a/app``, ``load-b/rN`` from ``team-b/app``, cross-repository blob
mounts and a manifest PUT), so that the mirror meets that many cold
repository scopes: each runs a cloudauth session and a token fetch, shared
by the concurrent pulls of the same repository.

Bounded: every connection and the whole phase have timeouts; the driver
stops by itself. Prints one JSON object with the figures.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import ssl
import sys
import time
import urllib.request
from urllib.parse import urlsplit

MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
PULL_TIMEOUT = 900
REQUEST_TIMEOUT = 120


async def request(reader, writer, host, path, headers):
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"] + [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before the status line")
    status = int(status_line.split()[1])
    response_headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        response_headers[name.strip().lower()] = value.strip()
    if "content-length" in response_headers:
        body = await reader.readexactly(int(response_headers["content-length"]))
    elif response_headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = b""
    return status, response_headers, body


class Pool:
    """One client's keep-alive connections to one server, as an HTTP
    client's connection pool: at most ``size`` open at once, each request
    takes an idle one (or opens one) and gives it back once its response is
    read. A reused connection the server has closed is retried once on a
    fresh one, as Go's and containerd's clients do for idempotent requests."""

    def __init__(self, url: str, size: int, ssl_context):
        parts = urlsplit(url)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.netloc = parts.netloc
        self.ssl_context = ssl_context if self.tls else None
        self.slots = asyncio.Semaphore(size)
        self.idle = []
        self.opened = 0

    async def _open(self):
        self.opened += 1
        return await asyncio.wait_for(asyncio.open_connection(
            self.host, self.port, ssl=self.ssl_context, server_hostname=self.host if self.tls else None,
            limit=1 << 22), REQUEST_TIMEOUT)

    async def request(self, path, headers, timings):
        """(status, headers, body); appends the seconds the request held
        its connection (send to last byte) to ``timings``."""
        async with self.slots:
            for attempt in (0, 1):
                reused = bool(self.idle)
                reader, writer = self.idle.pop() if reused else await self._open()
                start = time.perf_counter()
                try:
                    status, response_headers, body = await asyncio.wait_for(
                        request(reader, writer, self.netloc, path, headers), REQUEST_TIMEOUT)
                except (ConnectionError, asyncio.IncompleteReadError) as e:
                    writer.close()
                    if reused and attempt == 0:
                        continue
                    raise e
                except BaseException:
                    writer.close()
                    raise
                timings.append(time.perf_counter() - start)
                if response_headers.get("connection", "").lower() == "close":
                    writer.close()
                else:
                    self.idle.append((reader, writer))
                return status, response_headers, body
        raise AssertionError("unreachable")

    def close(self):
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def pull(pool: Pool, repo: str, tag: str, token, timings):
    """One pull on a client's pool; returns (seconds, error or None)."""
    start = time.perf_counter()
    try:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        status, _, body = await pool.request(f"/v2/{repo}/manifests/{tag}", {"Accept": MANIFEST_TYPES, **auth}, timings)
        if status != 200:
            return time.perf_counter() - start, f"manifest {status}: {body[:200]!r}"
        manifest = json.loads(body)
        for descriptor in [manifest["config"]] + manifest["layers"]:
            status, _, blob = await pool.request(f"/v2/{repo}/blobs/{descriptor['digest']}", auth, timings)
            if status != 200:
                return time.perf_counter() - start, f"blob {status}: {blob[:200]!r}"
            if "sha256:" + hashlib.sha256(blob).hexdigest() != descriptor["digest"]:
                return time.perf_counter() - start, "blob digest mismatch"
        return time.perf_counter() - start, None
    except Exception as e:  # noqa: BLE001  (every failure is a result here)
        return time.perf_counter() - start, f"{type(e).__name__}: {e}"


async def phase(jobs, clients, pool_size, ssl_context):
    """Starts every pull at once (each a task, all in flight together); the
    pulls of client ``i % clients`` share that client's pool. Bounded by
    PULL_TIMEOUT each. Returns (results, seconds, request timings,
    connections opened)."""
    pools = {}
    timings = []

    async def bounded(i, job):
        url, repo, tag, token = job
        key = (i % clients, url)
        if key not in pools:
            pools[key] = Pool(url, pool_size, ssl_context)
        try:
            return await asyncio.wait_for(pull(pools[key], repo, tag, token, timings), PULL_TIMEOUT)
        except asyncio.TimeoutError:
            return PULL_TIMEOUT, "timeout"
    start = time.perf_counter()
    results = await asyncio.gather(*(bounded(i, job) for i, job in enumerate(jobs)))
    elapsed = time.perf_counter() - start
    for pool in pools.values():
        pool.close()
    return results, elapsed, timings, sum(p.opened for p in pools.values())


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def token(token_url, service, credentials, scopes, ssl_context):
    query = "&".join([f"service={service}"] + [f"scope={s}" for s in scopes])
    req = urllib.request.Request(f"{token_url}?{query}",
                                 headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()})
    with urllib.request.urlopen(req, context=ssl_context, timeout=30) as r:
        return json.load(r)["token"]


def http(method, url, token_value, ssl_context, body=None, content_type=None):
    headers = {"Authorization": f"Bearer {token_value}", "Accept": MANIFEST_TYPES}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, context=ssl_context, timeout=30) as r:
        return r.status, r.read()


def set_up(args, ssl_context):
    """``--repos`` repositories per identity, by cross-repository mounts."""
    for side in ("a", "b"):
        source = f"team-{side}/app"
        admin = token(args.token_url, args.service, args.admin, [f"repository:{source}:pull"], ssl_context)
        _, manifest = http("GET", f"{args.registry}/v2/{source}/manifests/v1", admin, ssl_context)
        digests = [d["digest"] for d in [json.loads(manifest)["config"]] + json.loads(manifest)["layers"]]
        media_type = json.loads(manifest)["mediaType"]
        for i in range(args.repos):
            repo = f"load-{side}/r{i}"
            t = token(args.token_url, args.service, args.admin,
                      [f"repository:{repo}:pull,push", f"repository:{source}:pull"], ssl_context)
            for digest in digests:
                http("POST", f"{args.registry}/v2/{repo}/blobs/uploads/?mount={digest}&from={source}", t, ssl_context)
            http("PUT", f"{args.registry}/v2/{repo}/manifests/v1", t, ssl_context, manifest, media_type)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True, help="https://host of the registry")
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--admin", required=True, help="user:password allowed to push")
    parser.add_argument("--user-a", required=True)
    parser.add_argument("--user-b", required=True)
    parser.add_argument("--mirror-a", required=True)
    parser.add_argument("--mirror-b", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--pulls", type=int, default=10000)
    parser.add_argument("--repos", type=int, default=250)
    parser.add_argument("--clients", type=int, default=100,
                        help="simulated clients (nodes), half per identity; pull i is client i %% clients's")
    parser.add_argument("--pool", type=int, default=4, help="keep-alive connections per client")
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--phases", default="direct,mirror")
    args = parser.parse_args()

    ssl_context = ssl.create_default_context(cafile=args.ca_file)
    if not args.skip_setup:
        t = time.perf_counter()
        set_up(args, ssl_context)
        print(f"set-up: {2 * args.repos} repositories in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    if args.clients % 2:
        parser.error("--clients must be even (half per identity)")
    # Pull i is identity a's when i is even, b's when odd (so client
    # i % clients is one identity's), over every repository of each.
    repos = [(("a", f"load-a/r{(i // 2) % args.repos}") if i % 2 == 0 else ("b", f"load-b/r{(i // 2) % args.repos}"))
             for i in range(args.pulls)]
    out = {"pulls": args.pulls, "repositories": 2 * args.repos, "clients": args.clients, "pool": args.pool}
    for name in args.phases.split(","):
        if name == "direct":
            tokens = {}
            for side, repo in set(repos):
                user = args.user_a if side == "a" else args.user_b
                tokens[repo] = token(args.token_url, args.service, user, [f"repository:{repo}:pull"], ssl_context)
            jobs = [(args.registry, repo, "v1", tokens[repo]) for _, repo in repos]
        else:
            jobs = [(args.mirror_a if side == "a" else args.mirror_b, repo, "v1", None) for side, repo in repos]
        print(f"{name}: {len(jobs)} concurrent pulls", file=sys.stderr)
        results, elapsed, timings, opened = asyncio.run(phase(jobs, args.clients, args.pool, ssl_context))
        latencies = [s for s, error in results if error is None]
        errors = [error for _, error in results if error is not None]
        out[name] = {
            "ok": len(latencies),
            "failed": len(errors),
            "errors": sorted(set(e[:160] for e in errors))[:5],
            "seconds": round(elapsed, 2),
            "pulls_per_s": round(len(latencies) / elapsed, 1),
            "connections_opened": opened,
            # A whole pull, from the moment all are in flight: mostly the
            # wait for one of the client's connections.
            "p50_ms": round(1000 * percentile(latencies, 50), 1) if latencies else None,
            "p99_ms": round(1000 * percentile(latencies, 99), 1) if latencies else None,
            # One request on a connection, send to last byte.
            "request_p50_ms": round(1000 * percentile(timings, 50), 2) if timings else None,
            "request_p99_ms": round(1000 * percentile(timings, 99), 2) if timings else None,
        }
        print(json.dumps({name: out[name]}), file=sys.stderr)
    if "direct" in out and "mirror" in out and out["direct"]["p50_ms"] and out["mirror"]["p50_ms"]:
        out["added_p50_ms"] = round(out["mirror"]["p50_ms"] - out["direct"]["p50_ms"], 1)
        out["added_p99_ms"] = round(out["mirror"]["p99_ms"] - out["direct"]["p99_ms"], 1)
        out["added_request_p50_ms"] = round(out["mirror"]["request_p50_ms"] - out["direct"]["request_p50_ms"], 2)
        out["added_request_p99_ms"] = round(out["mirror"]["request_p99_ms"] - out["direct"]["request_p99_ms"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
