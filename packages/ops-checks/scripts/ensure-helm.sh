#!/usr/bin/env bash
# Prints the path of a helm binary: the one on PATH, else ~/go/bin/helm, else one built from the
# Go module proxy at a pinned version (about three minutes on two cores, needs Go >= 1.24).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
GOBIN_DIR="$(go env GOBIN 2>/dev/null || true)"
GOBIN_DIR="${GOBIN_DIR:-$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin}"

if command -v helm >/dev/null 2>&1; then
  command -v helm
  exit 0
fi
for candidate in "$GOBIN_DIR/helm" "$HOME/go/bin/helm"; do
  if [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  echo "helm is not installed and Go is not available to build it" >&2
  exit 1
fi
echo "building helm ${HELM_VERSION} from the Go module proxy…" >&2
"$GO" install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
echo "$("$GO" env GOPATH)/bin/helm"
