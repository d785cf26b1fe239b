#!/usr/bin/env bash
# Builds the Capstan of a git tag or commit (default: the newest v* tag behind HEAD, the previous release) into .cache/previous/<commit>, once
# per commit, for the cross-version upgrade test: the broker of version N-1 run beside this checkout's N. Prints the
# classpath of its CLI (capstan-cli.jar and its libraries) on the last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ref="${1:-$(git -C "$root" describe --tags --abbrev=0 --match 'v*' 2>/dev/null || echo ad7f5c6)}"  # ad7f5c6: the commit v0.1.0-alpha.1 tags
commit="$(git -C "$root" rev-parse --verify "$ref^{commit}" 2>/dev/null)" || {
    echo "build.sh: '$ref' is not a tag or commit of this repository (a shallow clone lacks the history:" \
         "git fetch --tags --unshallow, or name a commit you have)" >&2
    exit 2
}
out="$root/.cache/previous/$commit"
if [ ! -f "$out/cli/target/capstan-cli.jar" ]; then
    echo "building $ref ($commit) into $out: about 2 minutes on 2 cores" >&2
    rm -rf "$out" && mkdir -p "$out"
    git -C "$root" archive "$commit" | tar -x -C "$out"
    (cd "$out" && ./mvnw -o -q -B package -pl cli -am -DskipTests -Dmaven.javadoc.skip=true >&2)
fi
echo "$out/cli/target/capstan-cli.jar:$out/cli/target/lib/*"
