//! A `no_std` staticlib over the runtime's public API, for the link-level no-alloc check.
#![no_std]

use mcppol_runtime::{Caller, Program, Request, Scratch};

/// Loads an artifact and decides one request; returns the effect, or 255 for a bad artifact.
#[unsafe(no_mangle)]
pub extern "C" fn mcppol_probe(artifact: &[u8], args: &[u8], scratch: &mut Scratch) -> u8 {
    match Program::from_bytes(artifact) {
        Ok(program) => program.evaluate(&Request::tool_call("fs.read", args), scratch).effect as u8,
        Err(_) => 255,
    }
}

/// Loads an artifact and decides one raw `tools/call` body; returns the effect, or 255 for a
/// bad artifact.
#[unsafe(no_mangle)]
pub extern "C" fn mcppol_probe_call(artifact: &[u8], body: &[u8], scratch: &mut Scratch) -> u8 {
    match Program::from_bytes(artifact) {
        Ok(program) => program.evaluate_call(body, &Caller::default(), scratch).effect as u8,
        Err(_) => 255,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
