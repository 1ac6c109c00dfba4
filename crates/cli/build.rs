//! Link layout of the release `causeway` binary, for memory: an idle node's RSS is mostly the executable's pages
//! (BENCHMARKS.md, "Idle memory").
//!
//! - `link/order.txt` lists the functions a node runs (start-up and the call path, recorded under callgrind by
//!   `scripts/orderfile.sh`); rust-lld places them first and together, so the kernel's 64 KiB fault-around maps
//!   about 2 MiB of text instead of touching 127 of the 200 windows of the 12.5 MiB text. Names that no longer
//!   exist are skipped; a stale list only loses the gain (scripts/bench.sh reports how much of it still matches).
//! - `-z pack-relative-relocs` (DT_RELR, glibc >= 2.36) stores the ~50 000 relative relocations of a PIE in a few
//!   KiB instead of 1.2 MiB of `.rela.dyn` that the loader reads at every start.
//!
//! Only for optimised builds on x86_64 Linux with rustc >= 1.90, where rust-lld is the default linker (GNU ld
//! before 2.43 has no symbol ordering). `CAUSEWAY_PLAIN_LINK=1` turns both off.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=link/order.txt");
    println!("cargo:rerun-if-env-changed=CAUSEWAY_PLAIN_LINK");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let optimised = var("PROFILE") == "release";
    if !optimised || var("TARGET") != "x86_64-unknown-linux-gnu" || !var("CAUSEWAY_PLAIN_LINK").is_empty() {
        return;
    }
    if !rustc_uses_lld(&var("RUSTC")) {
        return;
    }
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/order.txt");
    println!("cargo:rustc-link-arg-bin=causeway=-Wl,-z,pack-relative-relocs");
    println!("cargo:rustc-link-arg-bin=causeway=-Wl,--symbol-ordering-file={}", order.display());
    println!("cargo:rustc-link-arg-bin=causeway=-Wl,--no-warn-symbol-ordering");
}

/// rustc 1.90 made rust-lld the default linker of x86_64-unknown-linux-gnu.
fn rustc_uses_lld(rustc: &str) -> bool {
    let Ok(out) = Command::new(rustc).arg("-V").output() else { return false };
    let version = String::from_utf8_lossy(&out.stdout);
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let minor = version.split_whitespace().nth(1).and_then(|v| v.split('.').nth(1)).and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m >= 90)
}
