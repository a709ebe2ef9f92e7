#!/bin/sh
# Installs the Kappie Grafana app into the volume Grafana loads it from, before Grafana starts (docker-compose.yml,
# service grafana-app-install, in a busybox container). Grafana refuses to start when its provisioning enables an app
# that is not installed ("plugin not installed"), so a missing, incomplete or foreign build stops the stack here,
# with what to run instead.
#
# Environment (set by docker-compose.yml):
#   KAPPIE_APP_BUILD  the app's build, grafana-plugin/dist (mounted read-only through its parent folder, so Docker
#                     never creates an empty dist/ on the host)
#   KAPPIE_APP_DIR    the folder Grafana reads the app from (a volume mounted at plugins/<id> in Grafana)
#   KAPPIE_APP_ID     the plugin id provisioning/plugins enables
set -eu

build="${KAPPIE_APP_BUILD:?KAPPIE_APP_BUILD is not set}"
target="${KAPPIE_APP_DIR:?KAPPIE_APP_DIR is not set}"
id="${KAPPIE_APP_ID:?KAPPIE_APP_ID is not set}"

fail() {
  echo "kappie: $1" >&2
  echo "kappie: build the Grafana app on the host, then start the stack again:" >&2
  echo "kappie:   npm ci && npm run -w grafana-plugin build" >&2
  echo "kappie:   docker compose up -d" >&2
  exit 1
}

[ -f "$build/plugin.json" ] || fail "grafana-plugin/dist/plugin.json is missing: the Grafana app is not built."
[ -f "$build/module.js" ] || fail "grafana-plugin/dist/module.js is missing: the build is incomplete."
grep -q "\"id\": *\"$id\"" "$build/plugin.json" ||
  fail "grafana-plugin/dist is the build of another plugin id than $id (an older checkout?): rebuild it."

# Replace the previous copy whole: a file an older build had and this one has not must not stay behind.
rm -rf "$target"/* "$target"/.[!.]* "$target"/..?*
cp -R "$build/." "$target/"
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$build/plugin.json" | head -n 1)
echo "kappie: installed the Grafana app $id $version"
