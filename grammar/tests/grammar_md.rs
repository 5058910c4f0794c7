//! Checks every example in GRAMMAR.md: ```` ```expr ```` blocks must parse (and round-trip
//! through `print`), ```` ```expr-error CODE ```` blocks must fail with CODE. The convention is
//! documented at the end of GRAMMAR.md.

use mcppol_grammar::{parse, print, strip_spans};

const GRAMMAR_MD: &str = include_str!("../GRAMMAR.md");

/// A fenced block whose info string starts with `expr` or `expr-error`.
#[derive(Debug)]
struct Block {
    /// Line number of the opening fence, for failure messages.
    line: usize,
    /// The info string split on whitespace: the tag, then its words.
    info: Vec<String>,
    body: String,
}

fn expr_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut in_other_block = false;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut current, fence) {
            (Some(_), true) => blocks.extend(current.take()),
            (Some(block), false) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, true) if in_other_block => in_other_block = false,
            (None, true) => {
                let info: Vec<String> = line
                    .trim_start()
                    .trim_start_matches('`')
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                match info.first().map(String::as_str) {
                    Some("expr" | "expr-error") => {
                        current = Some(Block { line: index + 1, info, body: String::new() });
                    }
                    _ => in_other_block = true,
                }
            }
            (None, false) => {}
        }
    }
    assert!(current.is_none() && !in_other_block, "GRAMMAR.md has an unclosed code block");
    blocks
}

fn has_word(block: &Block, word: &str) -> bool {
    block.info.iter().skip(1).any(|w| w == word)
}

/// The examples of a block: one per non-blank line, or the whole body with `block`.
fn examples(block: &Block) -> Vec<String> {
    let repeat = block
        .info
        .iter()
        .find_map(|w| w.strip_prefix("repeat="))
        .map_or(Some(1), |n| n.parse::<usize>().ok());
    let Some(repeat) = repeat else { return Vec::new() };
    if has_word(block, "block") {
        return vec![block.body.repeat(repeat)];
    }
    block.body.lines().filter(|l| !l.trim().is_empty()).map(|l| l.repeat(repeat)).collect()
}

#[test]
fn valid_examples_parse_and_round_trip() {
    let mut count = 0;
    for block in expr_blocks(GRAMMAR_MD).iter().filter(|b| b.info[0] == "expr") {
        let examples = examples(block);
        assert!(!examples.is_empty(), "GRAMMAR.md line {}: empty block", block.line);
        for example in examples {
            count += 1;
            let expr = parse(&example).unwrap_or_else(|errors| {
                panic!("GRAMMAR.md line {}: {example:?} fails: {errors:?}", block.line)
            });
            let printed = print(&expr);
            let reparsed = parse(&printed).unwrap_or_else(|errors| {
                panic!("GRAMMAR.md line {}: canonical {printed:?} fails: {errors:?}", block.line)
            });
            assert_eq!(strip_spans(&reparsed), strip_spans(&expr), "{example:?}");
            if has_word(block, "canonical") {
                assert_eq!(printed, example, "GRAMMAR.md line {}: not canonical", block.line);
            }
        }
    }
    // The extraction itself must not silently find nothing.
    assert!(count >= 60, "only {count} valid examples found in GRAMMAR.md");
}

#[test]
fn error_examples_fail_with_their_code() {
    let mut codes_seen = Vec::new();
    for block in expr_blocks(GRAMMAR_MD).iter().filter(|b| b.info[0] == "expr-error") {
        let code = block
            .info
            .get(1)
            .unwrap_or_else(|| panic!("GRAMMAR.md line {}: `expr-error` needs a code", block.line));
        let examples = examples(block);
        assert!(!examples.is_empty(), "GRAMMAR.md line {}: empty block", block.line);
        for example in examples {
            match parse(&example) {
                Ok(expr) => panic!("GRAMMAR.md line {}: {example:?} parses: {expr:?}", block.line),
                Err(errors) => assert_eq!(
                    errors[0].code, code,
                    "GRAMMAR.md line {}: {example:?} gives {errors:?}",
                    block.line
                ),
            }
        }
        codes_seen.push(code.clone());
    }
    for code in ["E0101", "E0102", "E0103", "E0104", "E0105", "E0106"] {
        assert!(codes_seen.iter().any(|c| c == code), "GRAMMAR.md has no example of {code}");
    }
}

#[test]
fn the_extractor_follows_the_convention() {
    let markdown = "text\n```expr\na\n\nb\n```\n```\nnot checked\n```\n```expr block\nx\n  y\n```\n\
                    ```expr-error E0105 repeat=3\nab\n```\n";
    let blocks = expr_blocks(markdown);
    assert_eq!(blocks.len(), 3);
    assert_eq!(examples(&blocks[0]), ["a", "b"]);
    assert_eq!(examples(&blocks[1]), ["x\n  y\n"]);
    assert_eq!(blocks[2].info, ["expr-error", "E0105", "repeat=3"]);
    assert_eq!(examples(&blocks[2]), ["ababab"]);
}
