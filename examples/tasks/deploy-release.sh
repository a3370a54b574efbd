#!/usr/bin/env bash
# Deploy an uploaded release: deploy-release VERSION [KEEP] installs releases/VERSION and switches `current` to it
set -euo pipefail

version="${1:?usage: deploy-release VERSION [KEEP]}"
keep="${2:-5}"
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9._+@=,~-]*$ ]] || { echo "not a version name: $version" >&2; exit 2; }
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "KEEP must be a whole number of at least 1, not: $keep" >&2; exit 2; }

uploads="${SDCI_UPLOADS_DIR:?SDCI_UPLOADS_DIR is not set: run this task through sdci-server}"
source="$uploads/releases/$version"
# Where releases are installed: DEPLOY_DIR from the server's environment, else beside the uploads folder.
deploy_dir="${DEPLOY_DIR:-$(dirname "$uploads")/deploy}"
releases="$deploy_dir/releases"
if [[ ! -d "$source" ]]; then
  echo "nothing uploaded at releases/$version (first: sdci-cli upload-asset URL ./dist releases/$version)" >&2
  exit 1
fi
mkdir -p "$releases"

if [[ -e "$releases/$version" ]]; then
  echo "releases/$version is installed already: switching to it"
else
  # Build the release beside its final place, then move it in whole.
  stage="$(mktemp -d "$releases/.incoming-$version.XXXXXX")"
  trap 'rm -rf -- "$stage"' EXIT
  shopt -s nullglob dotglob
  items=("$source"/*)
  if (( ${#items[@]} == 1 )) && [[ -f "${items[0]}" && "${items[0]}" =~ \.(tar\.gz|tgz|tar)$ ]]; then
    echo "unpacking $(basename "${items[0]}")"
    tar -xf "${items[0]}" -C "$stage" --no-same-owner
  elif (( ${#items[@]} == 1 )) && [[ -d "${items[0]}" ]]; then
    echo "copying $(basename "${items[0]}")/"
    cp -R -- "${items[0]}/." "$stage/"
  else
    echo "copying releases/$version/"
    cp -R -- "$source/." "$stage/"
  fi
  # An empty release would take the site down once `current` points at it.
  if [[ -z "$(find "$stage" -type f -print -quit)" ]]; then
    echo "releases/$version holds no files: nothing to deploy" >&2
    exit 1
  fi
  chmod 755 "$stage"
  mv -T -- "$stage" "$releases/$version"
  trap - EXIT
  echo "installed releases/$version"
fi
touch -- "$releases/$version"

# One rename switches `current`: a reader sees the old release or the new one, never neither.
ln -sfn "releases/$version" "$deploy_dir/.current.tmp"
mv -T -- "$deploy_dir/.current.tmp" "$deploy_dir/current"
echo "current -> releases/$version"

# Keep the KEEP most recently deployed releases; the current one always stays.
mapfile -t stale < <(ls -1t -- "$releases" | tail -n "+$((keep + 1))")
for name in "${stale[@]}"; do
  [[ "$name" == "$version" ]] && continue
  rm -rf -- "${releases:?}/$name"
  echo "removed old release $name"
done
