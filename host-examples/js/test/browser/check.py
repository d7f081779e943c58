"""Checks what the bundle found in headless Chromium (the dumped DOM,
argv[1]) against the same calls in Node (JSON, argv[2]), and a few facts
from the clouds' documentation."""

import html
import json
import re
import sys

dom = open(sys.argv[1]).read()
error = re.search(r'<pre id="error">(.*?)</pre>', dom, re.S)
if error:
    sys.exit(f"the bundle failed in the browser:\n{html.unescape(error.group(1))}")
found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
if not found:
    sys.exit(f"no result in the page (did the module load?):\n{dom[:2000]}")
r = json.loads(html.unescape(found.group(1)))
runtime = r.pop("runtime")
assert runtime["node"] is False, runtime
in_node = json.load(open(sys.argv[2]))
for key in in_node:
    if key != "noFiles":
        assert r[key] == in_node[key], f"{key}: browser {r[key]} != node {in_node[key]}"
assert r["resolved"]["provider"] == "aws" and r["resolved"]["aws"]["partition"] == "aws-us-gov", r["resolved"]
assert r["explained"]["azureCloud"] == "azure-china", r["explained"]
assert r["explained"]["audience"] == "api://AzureADTokenExchange" and len(r["explained"]["scopes"]) == 1, r["explained"]
assert r["planned"]["firstStep"]["url"].startswith("http://metadata.google.internal/computeMetadata/v1/"), r["planned"]
assert re.fullmatch(r"[0-9a-f]{64}", r["planned"]["cacheKey"])
assert r["entra"]["url"] == "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000a11e/oauth2/v2.0/token"
assert r["entra"]["form"]["client_assertion"] == "a.b.c" and r["entra"]["form"]["grant_type"] == "client_credentials"
assert r["flow"]["username"] == "oauth2accesstoken" and r["flow"]["password"] == "ya29.browser"
assert len(r["flow"]["calls"]) == 1, "the second call came from the cache"
assert r["noFiles"]["kind"] == "identity-token" and "not Node" in r["noFiles"]["message"], r["noFiles"]
print(f"ok: in {runtime['agent']} (no Node), the same results as in Node: resolve, explain, plan, request building, a flow with an injected fetch")
