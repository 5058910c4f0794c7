//! Helpers every `mcppol` end-to-end test binary shares: run the built binary from the
//! repository root, make a scratch directory, read output as text.

#![allow(dead_code, reason = "each test binary uses some of these helpers, none uses all")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the `mcppol` binary with `args` from the repository root, stdin closed.
pub fn mcppol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcppol"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("the mcppol binary runs")
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ has a parent").to_path_buf()
}

/// A fresh directory for one test, unique per test binary, process and name.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mcppol-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
