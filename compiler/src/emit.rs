//! Emission: artifact tables become bytes in the format `mcppol_runtime::format` specifies.
//!
//! Every constant comes from the runtime's format module, so the writer and the reader cannot
//! disagree about a number. The content hash and checksum are computed last.

use crate::lower::Tables;
use mcppol_runtime::{format, limits};
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
        tools(tables),
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

/// TOOLS (format 1.3): the header, the sorted records, then the hashed index.
fn tools(tables: &Tables) -> Vec<u8> {
    let names: Vec<&[u8]> = tables
        .tools
        .iter()
        .map(|&(name, _)| tables.strings.get(name as usize).map_or(&[][..], String::as_bytes))
        .collect();
    let index = tool_index(&names);
    let mut out =
        words(&[len32(tables.tools.len()), index.seed, index.bucket_count, index.max_probe]);
    out.extend(tables.tools.iter().flat_map(|&(name, entry)| words(&[name, entry])));
    out.extend(words(&index.buckets));
    out
}

/// The hashed tool index of a TOOLS section (see `mcppol_runtime::format`, "Tool dispatch").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolIndex {
    /// The hash seed.
    pub seed: u32,
    /// Number of buckets: 0 without tools, else a power of two at least twice the tool count.
    pub bucket_count: u32,
    /// Most buckets a lookup of a listed name looks at.
    pub max_probe: u32,
    /// Tool index per bucket, or `format::TOOL_EMPTY`.
    pub buckets: Vec<u32>,
}

/// A `max_probe` this short ends the search for a seed: a listed name is then found within a
/// few probes, and a longer search would mostly cost compile time.
const PROBE_GOAL: u32 = 4;
/// Seeds tried per table size before the table grows, at most...
const SEEDS: usize = 64;
/// ...and names placed per table size at most (at least one seed is always tried), so that a
/// policy near `limits::TOOL_COUNT_MAX` tools still compiles in well under a second.
const PLACEMENT_BUDGET: usize = 1 << 22;

/// Builds the index over `names` (tool `i` is named `names[i]`). Deterministic: the table size
/// starts at the smallest power of two at least twice the tool count, and seeds are tried from
/// 0 (at most [`SEEDS`], fewer for many names: [`PLACEMENT_BUDGET`]) until `max_probe` is at
/// most [`PROBE_GOAL`]; if no seed gets there, the shortest `max_probe` seen wins (the first
/// seed among equals) unless it is over `limits::TOOL_PROBES_MAX`, when the table doubles (at
/// most twice). Names are
/// placed in index order with Robin Hood linear probing, which keeps the longest probe short
/// and leaves every name reachable from its home bucket through occupied buckets, as a plain
/// linear-probing lookup needs. Should even the best exceed `limits::TOOL_PROBES_MAX`, the
/// verifier rejects the artifact (over a limit, E0401).
pub fn tool_index(names: &[&[u8]]) -> ToolIndex {
    if names.is_empty() {
        return ToolIndex { seed: 0, bucket_count: 0, max_probe: 0, buckets: Vec::new() };
    }
    let smallest = names.len().saturating_mul(2).next_power_of_two();
    let seeds = len32((PLACEMENT_BUDGET / names.len()).clamp(1, SEEDS));
    let mut best: Option<ToolIndex> = None;
    for bucket_count in [smallest, smallest << 1, smallest << 2] {
        for seed in 0..seeds {
            let index = place(names, seed, len32(bucket_count));
            if index.max_probe <= PROBE_GOAL {
                return index;
            }
            if best.as_ref().is_none_or(|best| index.max_probe < best.max_probe) {
                best = Some(index);
            }
        }
        if let Some(best) =
            best.as_ref().filter(|best| best.max_probe as usize <= limits::TOOL_PROBES_MAX)
        {
            return best.clone();
        }
    }
    best.unwrap_or_else(|| place(names, 0, len32(smallest)))
}

/// Robin Hood insertion of `names` with `seed` into `bucket_count` buckets (a power of two
/// greater than the name count, so every name finds a bucket).
fn place(names: &[&[u8]], seed: u32, bucket_count: u32) -> ToolIndex {
    let mask = bucket_count - 1;
    let homes: Vec<u32> = names.iter().map(|name| format::tool_hash(seed, name) & mask).collect();
    let mut buckets = vec![format::TOOL_EMPTY; bucket_count as usize];
    for tool in 0..len32(names.len()) {
        let mut carried = tool;
        let mut slot = homes[tool as usize];
        let mut distance = 0u32;
        loop {
            let occupant = buckets[slot as usize];
            if occupant == format::TOOL_EMPTY {
                buckets[slot as usize] = carried;
                break;
            }
            // The occupant is closer to its home than the carried name is: it gives way.
            let occupant_distance = slot.wrapping_sub(homes[occupant as usize]) & mask;
            if occupant_distance < distance {
                buckets[slot as usize] = carried;
                carried = occupant;
                distance = occupant_distance;
            }
            slot = (slot + 1) & mask;
            distance += 1;
        }
    }
    let max_probe = buckets
        .iter()
        .enumerate()
        .filter(|&(_, &tool)| tool != format::TOOL_EMPTY)
        .map(|(slot, &tool)| (len32(slot).wrapping_sub(homes[tool as usize]) & mask) + 1)
        .max()
        .unwrap_or(0);
    ToolIndex { seed, bucket_count, max_probe, buckets }
}
