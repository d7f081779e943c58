#!/usr/bin/env python3
"""Writes a tiny OCI image layout (one layer holding one file) for the
end-to-end test to push: `oci_image.py DIR TAG`. Deterministic: the same
bytes, hence the same digests, every time."""

import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path


def blob(root: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def layer_tar() -> bytes:
    content = b"hello from the cloudauth end-to-end test\n"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def main(root: Path, tag: str) -> None:
    tar = layer_tar()
    layer = blob(root, gzip.compress(tar, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
    }
    config_desc = blob(root, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer],
    }
    manifest_desc = blob(root, json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}))
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    print(manifest_desc["digest"])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: oci_image.py DIR TAG")
    main(Path(sys.argv[1]), sys.argv[2])
