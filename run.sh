#!/usr/bin/env bash
# The main job: build the component and show what cloudauth does for a
# target, with no cloud account. Default target: myregistry.azurecr.io/app:v1.
#   ./run.sh                                   # plan for the built-in default target
#   ./run.sh plan 123456789012.dkr.ecr.us-east-1.amazonaws.com/app
#   ./run.sh --help
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo xtask tools >/dev/null 2>&1 || true
cargo xtask build >/dev/null
exec cargo run --quiet --release -p cloudauth-host -- "$@"
