//! The policy's audit argument allowance (format 1.2): compiled into META, read back by
//! `Program::audit_args`, and older artifacts without it still load as "unstated".

use crate::craft::{META, Parts, TOOLS};
use mcppol_runtime::{AuditArgs, FormatErrorKind, Program};

fn allowance(yaml_audit: &str) -> String {
    let yaml = format!(
        "version: 1\nname: p\n{yaml_audit}rules:\n  - {{id: a, effect: allow, reason: r, tool: t}}\n"
    );
    let compiled = mcppol_compiler::compile(&yaml, "p.yaml").expect("compiles");
    let program = Program::from_bytes(&compiled.bytes).expect("verifies");
    match program.audit_args() {
        AuditArgs::Unstated => "unstated".to_owned(),
        AuditArgs::None => "none".to_owned(),
        AuditArgs::Digest => "digest".to_owned(),
        AuditArgs::Redacted(list) => {
            format!("redacted:{}", list.iter().collect::<Vec<_>>().join(","))
        }
        AuditArgs::Full => "full".to_owned(),
    }
}

#[test]
fn each_allowance_round_trips_through_the_artifact() {
    assert_eq!(allowance(""), "unstated");
    assert_eq!(allowance("audit: {args: none}\n"), "none");
    assert_eq!(allowance("audit: {args: digest}\n"), "digest");
    assert_eq!(allowance("audit: {args: full}\n"), "full");
    assert_eq!(
        allowance("audit: {args: redacted, redact: [password, auth.token]}\n"),
        "redacted:auth.token,password"
    );
}

#[test]
fn redact_lists_that_do_not_fit_are_e0221() {
    for audit in [
        "audit: {args: redacted}\n",
        "audit: {args: full, redact: [a]}\n",
        "audit: {args: redacted, redact: [a..b]}\n",
        "audit: {args: redacted, redact: ['']}\n",
    ] {
        let yaml = format!("version: 1\nname: p\n{audit}");
        let errors = mcppol_compiler::compile(&yaml, "p.yaml").expect_err(audit);
        assert_eq!(errors.iter().map(|d| d.code).collect::<Vec<_>>(), vec!["E0221"], "{audit}");
    }
}

#[test]
fn format_1_1_artifacts_load_with_an_unstated_allowance() {
    let mut parts = Parts::minimal();
    parts.header[10..12].copy_from_slice(&1u16.to_le_bytes());
    // No tools: before format 1.3 that is an empty TOOLS section.
    parts.sections[TOOLS].clear();
    // A 1.2 META (24 bytes) in a 1.1 artifact is a layout error...
    let error = Program::from_bytes(&parts.build()).map(|_| ()).expect_err("1.1 with 24-byte META");
    assert_eq!(error.kind(), FormatErrorKind::BadLayout);
    // ...and the 16-byte META of 1.1 loads, with no allowance.
    parts.sections[META].truncate(16);
    let bytes = parts.build();
    let program = Program::from_bytes(&bytes).expect("a 1.1 artifact loads");
    assert!(matches!(program.audit_args(), AuditArgs::Unstated));
    // A 1.2 artifact with a 16-byte META does not.
    parts.header[10..12].copy_from_slice(&2u16.to_le_bytes());
    let error = Program::from_bytes(&parts.build()).map(|_| ()).expect_err("1.2 with 16-byte META");
    assert_eq!(error.kind(), FormatErrorKind::BadLayout);
}
