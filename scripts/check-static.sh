#!/usr/bin/env bash
# Build the binary the Dockerfile ships (release, x86_64-unknown-linux-musl) and check that
# it is statically linked and runs, without Docker.
#
# Cost: a release build of the whole tree (all AWS SDK crates, thin LTO): 20+ minutes on 2
# shared cores, ~15 GB of target dir. Not part of scripts/test.sh for that reason.
#
# Needs: rustup (adds the musl target) and a C compiler for musl (`musl-gcc` from Debian's
# musl-tools; installed with apt-get when missing and running as root).
# Output: the binary's path on the last stdout line; exit 1 if it is dynamic or does not run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache.sh

TARGET=x86_64-unknown-linux-musl
log() { printf 'check-static: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if ! command -v musl-gcc >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || die "musl-gcc not found: apt-get install musl-tools"
  log "installing musl-tools (Debian) ..."
  apt-get install -y -qq musl-tools >&2 || { apt-get update -qq >&2 && apt-get install -y -qq musl-tools >&2; }
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET" >&2

start=$SECONDS
log "cargo build --release --locked --target $TARGET -p phiguard ..."
cargo build --release --locked --target "$TARGET" -p phiguard --bin phiguard >&2
built="${CARGO_TARGET_DIR:-target}/$TARGET/release/phiguard"
log "built in $((SECONDS - start))s: $(du -h "$built" | cut -f1)"
# The image ships it stripped (Dockerfile): check that file, not the build's.
bin="${built%/*}/phiguard.stripped"
strip -o "$bin" "$built"
log "stripped: $(du -h "$bin" | cut -f1)"

# Static: no program interpreter (PT_INTERP) and no needed shared libraries (DT_NEEDED).
# Read from the ELF headers with python3 so no binutils are needed.
python3 - "$bin" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF"
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
interp, needed = False, 0
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
    if p_type == 3:  # PT_INTERP
        interp = True
    if p_type == 2:  # PT_DYNAMIC: count DT_NEEDED (tag 1) entries
        for off in range(p_offset, p_offset + p_filesz, 16):
            tag, _ = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            needed += tag == 1
if interp or needed:
    sys.exit(f"dynamically linked: interpreter={interp}, needed libraries={needed}")
print("statically linked (no interpreter, no needed libraries)", file=sys.stderr)
PY

# Runs: in an empty environment, as the image would (no libc, no config).
env -i "$bin" --version >&2 || die "$bin --version failed"
env -i "$bin" rules --format json | head -c 200 >/dev/null || die "$bin rules failed"
log "ok"
printf '%s\n' "$bin"
