#!/usr/bin/env bash
# Builds the fledge VS Code extension into fledge-<version>.vsix, with nothing downloaded from
# anywhere but the npm registry:
#   npm ci (pinned by package-lock.json) -> tsc --noEmit (extension + webview) -> unit tests
#   -> esbuild bundles (dist/) -> [bin/fledge] -> vsce package (offline)
#
# Usage: vscode-extension/build.sh
# Environment:
#   FLEDGE_BUNDLE_BINARY=PATH  copy this fledge binary into the .vsix as bin/fledge (the extension
#                              uses it when "fledge.path" is empty); the .vsix is then made for
#                              this platform (vsce --target, e.g. linux-x64)
#   FLEDGE_VSIX_TARGET=T       override that target (vsce target names: linux-x64, darwin-arm64, ...)
#   FLEDGE_VSIX_OUT=DIR        where the .vsix goes (default: this folder)
#   FLEDGE_NPM_CI=1            always run `npm ci`; by default it is skipped when node_modules was
#                              installed by this script from the same package-lock.json
# Progress goes to stderr; the last (only) line on stdout is the .vsix path.
set -euo pipefail
die() { echo "build.sh: error: $*" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
command -v node >/dev/null || die "node not found (Node >= 18 needed)"
command -v npm >/dev/null || die "npm not found"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
now() { date +%s%N; }
took() { local d=$(( ($(now) - $1) / 100000000 )); echo "$((d / 10)).$((d % 10)) s"; }
t_all=$(now)

# ---- dependencies
stamp=node_modules/.fledge-build-stamp
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1) node $(node -v)"
if [ "${FLEDGE_NPM_CI:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  t=$(now)
  npm ci --prefer-offline >&2 || die "npm ci failed"
  echo "$want" > "$stamp"
  echo "build.sh: npm ci ($(took "$t"))" >&2
else
  echo "build.sh: node_modules is up to date with package-lock.json (FLEDGE_NPM_CI=1 forces npm ci)" >&2
fi

# ---- type-check, unit tests, bundle
t=$(now)
npx --no-install tsc --noEmit -p . >&2 || die "type errors in src/"
npx --no-install tsc --noEmit -p webview >&2 || die "type errors in webview/"
echo "build.sh: type-check ($(took "$t"))" >&2
t=$(now)
rm -rf out
npx --no-install esbuild test/unit.test.ts --bundle --platform=node --format=cjs --target=node18 \
  --outfile=out/unit.test.js --log-level=warning >&2 || die "building the unit tests failed"
node --test out/ >&2 || die "unit tests failed"
echo "build.sh: unit tests ($(took "$t"))" >&2
t=$(now)
rm -rf dist
node esbuild.mjs >&2 || die "bundling failed"
echo "build.sh: bundle ($(took "$t"))" >&2

# ---- optional bundled binary
rm -rf bin
target_args=()
if [ -n "${FLEDGE_BUNDLE_BINARY:-}" ]; then
  [ -f "$FLEDGE_BUNDLE_BINARY" ] && [ -x "$FLEDGE_BUNDLE_BINARY" ] || die "FLEDGE_BUNDLE_BINARY=$FLEDGE_BUNDLE_BINARY is not an executable file"
  mkdir -p bin
  exe=fledge
  case "$(node -p process.platform)" in win32) exe=fledge.exe ;; esac
  cp "$FLEDGE_BUNDLE_BINARY" "bin/$exe"
  chmod 755 "bin/$exe"
  target="${FLEDGE_VSIX_TARGET:-$(node -p 'process.platform + "-" + process.arch')}"
  target_args=(--target "$target")
  echo "build.sh: bundling $FLEDGE_BUNDLE_BINARY as bin/$exe (target $target)" >&2
fi

# ---- package
version="$(node -p 'require("./package.json").version')"
out_dir="${FLEDGE_VSIX_OUT:-$here}"
mkdir -p "$out_dir"
vsix="$(cd "$out_dir" && pwd)/fledge-$version.vsix"
rm -f "$vsix"
t=$(now)
npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository "${target_args[@]}" -o "$vsix" >&2 </dev/null \
  || die "vsce package failed"
rm -rf bin   # only needed inside the .vsix
echo "build.sh: package ($(took "$t")); total $(took "$t_all")" >&2
echo "$vsix"
