"""Sends the component's requests with the standard library's HTTP client.

Requests go out exactly as built, redirects not followed (the component
judges every status; a token must not follow a redirect to another host),
bodies read up to 1 MiB and one byte. The only rewrite is the one the
Google SDKs make: ``GCE_METADATA_HOST`` (host[:port]) stands for
``metadata.google.internal`` in a plain-HTTP metadata URL.
"""

from __future__ import annotations

import http.client
import re
import ssl
from typing import Mapping, Optional, TypedDict
from urllib.parse import urlsplit, urlunsplit

#: The component refuses bodies over 1 MiB; one byte more lets it say so.
MAX_BODY = (1 << 20) + 1
#: Seconds one exchange may take (connect, and each read).
HTTP_TIMEOUT = 30.0

GOOGLE_METADATA = "metadata.google.internal"
_HOST_PORT = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")


class HttpRequest(TypedDict):
    """The component's ``http-request``."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


class HttpResponse(TypedDict):
    """The component's ``http-response``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def redact_url(url: str) -> str:
    """A URL without query or fragment: what may be logged or shown."""
    return re.split(r"[?#]", url, maxsplit=1)[0]


def host_of(url: str) -> str:
    """The host (and port) of a URL."""
    try:
        return urlsplit(url).netloc or redact_url(url)
    except ValueError:
        return redact_url(url)


def route_url(url: str, env: Mapping[str, str]) -> str:
    """The URL to connect to for a component request URL."""
    override = env.get("GCE_METADATA_HOST")
    if not override:
        return url
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.netloc != GOOGLE_METADATA:
        return url
    if not _HOST_PORT.match(override):
        raise ValueError(f"GCE_METADATA_HOST {override!r} is not a host[:port]")
    return urlunsplit(parts._replace(netloc=override))


def ssl_context(ca_file: Optional[str] = None) -> ssl.SSLContext:
    """The system's trust store (``SSL_CERT_FILE`` replaces it, as in
    OpenSSL), plus the certificates of ``ca_file``."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class Transport:
    """HTTP over ``http.client``: one connection per exchange."""

    def __init__(self, context: Optional[ssl.SSLContext] = None, timeout: float = HTTP_TIMEOUT) -> None:
        self.context = context or ssl_context()
        self.timeout = timeout

    def send(self, request: HttpRequest, env: Mapping[str, str]) -> HttpResponse:
        url = route_url(request["url"], env)
        parts = urlsplit(url)
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, parts.port, timeout=self.timeout, context=self.context)
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        else:
            raise ValueError(f"cannot send to {redact_url(url)}: not http or https")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        names = {name.lower() for name, _ in request["headers"]}
        body = bytes(request["body"])
        try:
            connection.putrequest(request["method"], target, skip_host="host" in names, skip_accept_encoding=True)
            for name, value in request["headers"]:
                connection.putheader(name, value)
            if body and "content-length" not in names:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            return {
                "status": response.status,
                "headers": [(k, v) for k, v in response.getheaders()],
                "body": response.read(MAX_BODY),
            }
        except (OSError, http.client.HTTPException) as e:
            raise ConnectionError(f"{request['method']} {redact_url(url)} failed: {e}") from e
        finally:
            connection.close()
