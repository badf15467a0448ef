# Sourced by the bench scripts: `ensure_pyright DIR` installs the pinned pyright (npm) into DIR
# when it is missing or another version, and sets PYRIGHT (the CLI) and PYRIGHT_LANGSERVER (the
# language server's JS entry point, run with node). Needs node + npm; calls `die` on failure.
PYRIGHT_VERSION=1.1.414

ensure_pyright() {
  local dir="$1"
  PYRIGHT="$dir/node_modules/.bin/pyright"
  PYRIGHT_LANGSERVER="$dir/node_modules/pyright/langserver.index.js"
  if [ ! -x "$PYRIGHT" ] || [ "$("$PYRIGHT" --version 2>/dev/null | awk '{print $2}')" != "$PYRIGHT_VERSION" ]; then
    log "installing pyright@$PYRIGHT_VERSION into $dir"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --silent "pyright@$PYRIGHT_VERSION") \
      || die "npm install pyright@$PYRIGHT_VERSION failed (SKIP_PYRIGHT=1 to skip)"
  fi
}
