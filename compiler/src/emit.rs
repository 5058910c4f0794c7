//! Emission: artifact tables become bytes in the format `mcppol_runtime::format` specifies.
//!
//! Every constant comes from the runtime's format module, so the writer and the reader cannot
//! disagree about a number. The content hash and checksum are computed last.

use crate::lower::Tables;
use mcppol_runtime::format;
use sha2::{Digest, Sha256};

/// Serialises `tables`. Deterministic: the same tables give the same bytes.
pub fn emit(tables: &Tables) -> Vec<u8> {
    let sections: [Vec<u8>; format::SECTION_COUNT] = [
        meta(tables),
        strings(tables),
        sets(tables),
        dfas(tables),
        tables.rules.iter().flat_map(|&(id, line, column)| words(&[id, line, column])).collect(),
        tables.outcomes.concat(),
        tables.predicates.concat(),
        tables.nodes.concat(),
        tables.tools.iter().flat_map(|&(name, entry)| words(&[name, entry])).collect(),
    ];
    let table_len = format::SECTION_COUNT * format::SECTION_ENTRY_LEN;
    let total: usize =
        format::HEADER_LEN + table_len + sections.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&format::MAGIC);
    out.extend_from_slice(&format::FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&format::FORMAT_MINOR.to_le_bytes());
    out.extend_from_slice(&words(&[
        len32(format::HEADER_LEN),
        len32(total),
        len32(format::SECTION_COUNT),
        0, // checksum, filled in below
        0, // flags
    ]));
    out.extend_from_slice(&[0u8; 32]); // content hash, filled in below
    let mut offset = format::HEADER_LEN + table_len;
    for (index, section) in sections.iter().enumerate() {
        out.extend_from_slice(&words(&[len32(index + 1), len32(offset), len32(section.len())]));
        offset += section.len();
    }
    for section in &sections {
        out.extend_from_slice(section);
    }
    let hash = Sha256::digest(&out);
    out[format::CONTENT_HASH_OFFSET..format::HEADER_LEN].copy_from_slice(&hash);
    let checksum = format::checksum(&out);
    out[format::CHECKSUM_OFFSET..format::CHECKSUM_OFFSET + 4]
        .copy_from_slice(&checksum.to_le_bytes());
    out
}

fn words(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// A length as a wire `u32`. Lengths beyond `u32::MAX` saturate, and the verifier then rejects
/// the artifact, so an oversized policy fails to compile instead of wrapping around.
fn len32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn meta(tables: &Tables) -> Vec<u8> {
    words(&[
        tables.name,
        tables.source,
        tables.default_outcome,
        tables.fallback_entry,
        tables.audit.0,
        tables.audit.1,
    ])
}

/// `count`, `(offset, len)` per item, then the concatenated payloads.
fn indexed(items: &[&[u8]]) -> Vec<u8> {
    let mut out = words(&[len32(items.len())]);
    let mut offset = 0usize;
    for item in items {
        out.extend_from_slice(&words(&[len32(offset), len32(item.len())]));
        offset += item.len();
    }
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

fn strings(tables: &Tables) -> Vec<u8> {
    let items: Vec<&[u8]> = tables.strings.iter().map(String::as_bytes).collect();
    indexed(&items)
}

fn dfas(tables: &Tables) -> Vec<u8> {
    let items: Vec<&[u8]> = tables.dfas.iter().map(Vec::as_slice).collect();
    indexed(&items)
}

fn sets(tables: &Tables) -> Vec<u8> {
    let mut out = words(&[len32(tables.sets.len())]);
    let mut start = 0usize;
    for set in &tables.sets {
        out.extend_from_slice(&words(&[len32(start), len32(set.len())]));
        start += set.len();
    }
    for set in &tables.sets {
        out.extend_from_slice(&words(set));
    }
    out
}
