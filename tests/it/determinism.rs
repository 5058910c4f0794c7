//! Determinism: compiling twice gives the same bytes; the artifact does not depend on the
//! directory it was compiled from; one program decides identically from many threads.

use crate::support::root;
use mcppol_runtime::{Decision, Program, Request, Scratch};

#[test]
fn compiling_twice_gives_identical_bytes() {
    let source = std::fs::read_to_string(root().join("policies/default.yaml")).unwrap();
    let first = mcppol_compiler::compile(&source, "policies/default.yaml").unwrap().bytes;
    let second = mcppol_compiler::compile(&source, "policies/default.yaml").unwrap().bytes;
    assert_eq!(first, second);
    // Only the file's base name is recorded, so the directory does not matter.
    let elsewhere =
        mcppol_compiler::compile(&source, "/somewhere/else/default.yaml").unwrap().bytes;
    assert_eq!(first, elsewhere);
}

#[test]
fn one_program_decides_identically_from_many_threads() {
    let artifact = std::fs::read(root().join("policies/default.mcpb")).unwrap();
    let program = Program::from_bytes(&artifact).unwrap();
    let requests: [(&str, &[u8]); 4] = [
        ("fs.read", br#"{"path":"/workspace/README.md"}"#),
        ("fs.read", br#"{"path":"/workspace/../etc/passwd"}"#),
        ("fs.write", br#"{"path":"/workspace/a","content":"b"}"#),
        ("sql.query", br#"{"query":"SELECT 1"}"#),
    ];
    let mut scratch = Box::new(Scratch::new());
    let expected: Vec<Decision<'_>> = requests
        .iter()
        .map(|(tool, args)| program.evaluate(&Request::tool_call(tool, args), &mut scratch))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let mut scratch = Box::new(Scratch::new());
                for _ in 0..200 {
                    for ((tool, args), expected) in requests.iter().zip(&expected) {
                        let decision =
                            program.evaluate(&Request::tool_call(tool, args), &mut scratch);
                        assert_eq!(&decision, expected);
                    }
                }
            });
        }
    });
}

#[test]
fn tracing_never_changes_a_decision() {
    struct Count(u32);
    impl mcppol_runtime::Trace for Count {
        fn test(&mut self, _node: u32, _predicate: u32, _outcome: Option<bool>) {
            self.0 += 1;
        }
        fn decide(&mut self, _node: u32, _outcome: u32) {}
    }
    let artifact = std::fs::read(root().join("policies/default.mcpb")).unwrap();
    let program = Program::from_bytes(&artifact).unwrap();
    let mut scratch = Box::new(Scratch::new());
    for (tool, args) in [
        ("fs.read", &br#"{"path":"/workspace/a"}"#[..]),
        ("fs.read", br#"{"path":"/etc/passwd"}"#),
        ("http.fetch", br#"{"url":"http://127.1/"}"#),
        ("x", b"{}"),
    ] {
        let request = Request::tool_call(tool, args);
        let plain = program.evaluate(&request, &mut scratch);
        let mut count = Count(0);
        let traced = program.evaluate_traced(&request, &mut scratch, &mut count);
        assert_eq!(plain, traced, "{tool}");
        assert!(count.0 as usize <= program.node_count() as usize);
    }
}
