#!/usr/bin/env bash
# Azurite (the Azure Storage emulator) for `func start`: the Durable Functions task hub and the
# host's own storage live there (AzureWebJobsStorage=UseDevelopmentStorage=true).
#
#   scripts/azurite.sh                 install on first use, then run in the foreground
#   scripts/azurite.sh --install-only  install and exit
#
# Installs npm azurite@3.35.0 (3.37 needs Node 22) into a local prefix, outside the repository:
# $AZURITE_HOME, default ~/.cache/agent-memory/azurite; data goes to $AZURITE_HOME/data.
# Listens on 127.0.0.1: blob 10000, queue 10001, table 10002.
set -euo pipefail

VERSION="3.35.0"
HOME_DIR="${AZURITE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-memory/azurite}"
BIN="$HOME_DIR/node_modules/.bin/azurite"

command -v npm >/dev/null || { echo "azurite.sh: npm (Node.js 18 or later) is required" >&2; exit 1; }

if [[ ! -x "$BIN" ]] || [[ "$("$BIN" --version 2>/dev/null)" != "$VERSION" ]]; then
  echo "azurite.sh: installing azurite@$VERSION into $HOME_DIR" >&2
  mkdir -p "$HOME_DIR"
  npm install --prefix "$HOME_DIR" --no-audit --no-fund --loglevel=error "azurite@$VERSION"
fi

if [[ "${1:-}" == "--install-only" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$HOME_DIR/data"
echo "azurite.sh: Azurite $VERSION on 127.0.0.1:10000-10002, data in $HOME_DIR/data" >&2
exec "$BIN" --silent --disableTelemetry --location "$HOME_DIR/data" \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 --skipApiVersionCheck
