//! Evaluation allocates nothing: a counting global allocator (per thread, so parallel tests do
//! not interfere) observes zero allocations across a corpus of requests, after loading.

use crate::support::root;
use mcppol_runtime::{Caller, Program, Request, Scratch};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

#[expect(unsafe_code, reason = "a global allocator is an unsafe trait; this one only counts")]
// SAFETY: every method forwards to `System` with the same arguments; counting has no effect on
// the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test below against a counter that never counts.
    let before = allocations();
    let boxed = std::hint::black_box(vec![1u8; 64]);
    assert!(allocations() > before);
    drop(boxed);
}

#[test]
fn loading_and_evaluating_allocate_nothing() {
    let mut scratch = Box::new(Scratch::new());
    for name in ["default", "dev"] {
        let artifact = std::fs::read(root().join("policies").join(format!("{name}.mcpb"))).unwrap();
        let requests: Vec<(String, String)> = [
            ("fs.read", r#"{"path":"/workspace/README.md"}"#),
            ("fs.read", r#"{"path":"/workspace/\u002e\u002e/etc/passwd"}"#),
            ("fs.read", r#"{"path":"/a","path":"/b"}"#),
            ("fs.write", r#"{"path":"/workspace/x","content":"y"}"#),
            ("sql.query", r#"{"query":"SELECT 1; DROP TABLE t -- x"}"#),
            ("sql.query", r#"{"query":"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"}"#),
            ("http.fetch", r#"{"url":"https://docs.rs/x"}"#),
            ("unknown", r#"{"deep":[[[[{"a":{"b":[1,2,3e400]}}]]]]}"#),
            ("fs.read", "not json"),
        ]
        .iter()
        .map(|(tool, args)| ((*tool).to_owned(), (*args).to_owned()))
        .collect();
        // The bodies are built before counting starts.
        let bodies: Vec<String> = requests
            .iter()
            .map(|(tool, args)| {
                format!(
                    r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{args}}}}}"#
                )
            })
            .collect();
        let before = allocations();
        let program = Program::from_bytes(&artifact).unwrap();
        let mut effects = 0u32;
        for ((tool, args), body) in requests.iter().zip(&bodies) {
            let request = Request {
                principal_roles: &["admin"],
                ..Request::tool_call(tool, args.as_bytes())
            };
            effects += program.evaluate(&request, &mut scratch).effect as u32;
            // The same call from its raw JSON-RPC body.
            let caller = Caller { principal_roles: &["admin"], ..Caller::default() };
            effects += program.evaluate_call(body.as_bytes(), &caller, &mut scratch).effect as u32;
        }
        assert_eq!(allocations() - before, 0, "{name}: loading or evaluating allocated");
        assert!(effects > 0, "the corpus should produce some non-allow decisions");
    }
}
