"""Times botocore's SigV4Auth.add_auth on the requests benches/component_vs_native.rs
signs, for the side-by-side table. Run by the benchmark; prints one line per
case: `<case> <microseconds per call>`.

usage: python3 botocore_sigv4.py <seconds per case> <case>...
cases: ecr, token-1k, headers-100, body-1m
"""

import sys
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "AQoDYXdzEPT//////////wEXAMPLE"
URL = "https://api.ecr.us-east-1.amazonaws.com/"
TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"


def ecr_request(headers=(), body=b"{}"):
    h = {"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"}
    for name, value in headers:
        h[name] = value
    return AWSRequest(method="POST", url=URL, headers=h, data=body)


def case(name):
    """The request and credentials of a case, as the Rust benchmark builds them."""
    token = TOKEN
    headers = ()
    body = b"{}"
    if name == "token-1k":
        token = "A" * 1024
    elif name == "headers-100":
        headers = [("X-Bench-%03d" % i, "value %d" % i) for i in range(100)]
    elif name == "body-1m":
        body = b"x" * (1 << 20)
    elif name != "ecr":
        raise SystemExit("unknown case " + name)
    return ecr_request(headers, body), Credentials(ACCESS_KEY, SECRET_KEY, token)


def measure(budget, f):
    for _ in range(10):
        f()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        for _ in range(16):
            f()
        n += 16
    return (time.perf_counter() - start) / n


def main():
    budget = float(sys.argv[1])
    for name in sys.argv[2:]:
        request, credentials = case(name)
        signer = SigV4Auth(credentials, "ecr", "us-east-1")
        seconds = measure(budget, lambda: signer.add_auth(request))
        print(name, "%.3f" % (seconds * 1e6), flush=True)


if __name__ == "__main__":
    main()
