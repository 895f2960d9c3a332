# Sourced by the scripts that build test tools into bin/ (peer-suites.sh, engines.sh).
# Each build is cached by version under bin/.

# stage starts a build in DIR.tmp; commit renames it to DIR when complete, so an
# interrupted build is never mistaken for a cached one.
stage() {
	rm -rf "$1.tmp"
	mkdir -p "$1.tmp"
}
commit() { rm -rf "$1" && mv "$1.tmp" "$1"; }

# module_dir prints where the Go module cache holds MODULE@VERSION, downloading it.
module_dir() { go mod download -json "$1@$2" | jq -r '.Dir // error(.Error)'; }
