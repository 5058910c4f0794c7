//! Crafting artifacts for the verifier and limit tests: split one into its sections, edit them,
//! and put it back together with consistent offsets, `total_len` and a valid checksum, so that
//! the check a test targets fires rather than the layout or checksum checks.

use mcppol_runtime::format;

/// An artifact as its header and its nine section bodies, in table order.
#[derive(Clone, Debug)]
pub struct Parts {
    pub header: Vec<u8>,
    pub sections: Vec<Vec<u8>>,
}

/// Section indices (0-based, table order).
pub const META: usize = 0;
pub const STRINGS: usize = 1;
pub const SETS: usize = 2;
pub const DFAS: usize = 3;
pub const RULES: usize = 4;
pub const OUTCOMES: usize = 5;
pub const PREDICATES: usize = 6;
pub const NODES: usize = 7;
pub const TOOLS: usize = 8;

/// The artifact offset of the first section (META): right after the section table.
pub const FIRST_SECTION: usize =
    format::HEADER_LEN + format::SECTION_COUNT * format::SECTION_ENTRY_LEN;

pub fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

pub fn set_word(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Recomputes the checksum so a test reaches the check it targets.
pub fn reseal(bytes: &mut [u8]) {
    let checksum = format::checksum(bytes);
    set_word(bytes, format::CHECKSUM_OFFSET, checksum);
}

/// A 16-byte record: three bytes, a zero byte, then three words. Predicates are
/// `(subject, op, flags, path, a, b)`, nodes `(kind, 0, 0, a, b, c)`.
pub fn record(bytes: [u8; 3], words: [u32; 3]) -> Vec<u8> {
    let mut out = vec![bytes[0], bytes[1], bytes[2], 0];
    for value in words {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// An outcome record.
pub fn outcome(kind: u8, effect: u8, risk: u8, rule: u32, reason: u32, code: u32) -> Vec<u8> {
    record([kind, effect, risk], [rule, reason, code])
}

/// A table section (STRINGS, SETS, DFAS): `(offset, len)` entries and the payload after them.
#[derive(Clone, Debug, Default)]
pub struct Indexed {
    pub entries: Vec<(u32, u32)>,
    pub payload: Vec<u8>,
}

impl Indexed {
    pub fn parse(body: &[u8]) -> Self {
        let count = word(body, 0) as usize;
        let entries = (0..count).map(|i| (word(body, 4 + i * 8), word(body, 8 + i * 8))).collect();
        Self { entries, payload: body[4 + count * 8..].to_vec() }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.entries.len() * 8 + self.payload.len());
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for &(offset, len) in &self.entries {
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }
}

impl Parts {
    /// Splits a well-formed artifact.
    pub fn split(bytes: &[u8]) -> Self {
        let sections = (0..format::SECTION_COUNT)
            .map(|index| {
                let entry = format::HEADER_LEN + index * format::SECTION_ENTRY_LEN;
                let (offset, len) =
                    (word(bytes, entry + 4) as usize, word(bytes, entry + 8) as usize);
                bytes[offset..offset + len].to_vec()
            })
            .collect();
        Self { header: bytes[..format::HEADER_LEN].to_vec(), sections }
    }

    /// The smallest valid artifact: one empty string (the name and source), one DEFAULT deny
    /// outcome, one DECIDE node, and nothing else.
    pub fn minimal() -> Self {
        let mut header = Vec::with_capacity(format::HEADER_LEN);
        header.extend_from_slice(&format::MAGIC);
        header.extend_from_slice(&format::FORMAT_MAJOR.to_le_bytes());
        header.extend_from_slice(&format::FORMAT_MINOR.to_le_bytes());
        for value in [format::HEADER_LEN as u32, 0, format::SECTION_COUNT as u32, 0, 0] {
            header.extend_from_slice(&value.to_le_bytes());
        }
        header.resize(format::HEADER_LEN, 0);
        let strings = Indexed { entries: vec![(0, 0)], payload: Vec::new() };
        let empty = Indexed::default();
        // META: name, source, default outcome and fallback entry 0; no audit allowance and
        // no redaction set.
        let mut meta = vec![0; format::META_LEN];
        meta[20..24].copy_from_slice(&format::NO_SET.to_le_bytes());
        let sections = vec![
            meta,
            strings.to_bytes(),
            empty.to_bytes(),
            empty.to_bytes(),
            Vec::new(),
            outcome(format::outcome::DEFAULT, 2, 1, format::NO_RULE, 0, 0),
            Vec::new(),
            record([format::node::DECIDE, 0, 0], [0, 0, 0]),
            // No tools: count, seed, bucket count and max probe all 0.
            vec![0; format::TOOLS_HEADER_LEN],
        ];
        Self { header, sections }
    }

    /// The artifact bytes, with the section table, `total_len` and checksum recomputed.
    pub fn build(&self) -> Vec<u8> {
        let mut out = self.build_unsealed();
        reseal(&mut out);
        out
    }

    /// As [`Parts::build`], but with the checksum left as it was.
    pub fn build_unsealed(&self) -> Vec<u8> {
        let total = FIRST_SECTION + self.sections.iter().map(Vec::len).sum::<usize>();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&self.header);
        set_word(&mut out, 16, total as u32);
        let mut offset = FIRST_SECTION;
        for (index, section) in self.sections.iter().enumerate() {
            for value in [index as u32 + 1, offset as u32, section.len() as u32] {
                out.extend_from_slice(&value.to_le_bytes());
            }
            offset += section.len();
        }
        for section in &self.sections {
            out.extend_from_slice(section);
        }
        out
    }

    /// The artifact offset where section `index` starts in [`Parts::build`]'s output.
    pub fn offset_of(&self, index: usize) -> u32 {
        (FIRST_SECTION + self.sections[..index].iter().map(Vec::len).sum::<usize>()) as u32
    }

    pub fn table(&self, index: usize) -> Indexed {
        Indexed::parse(&self.sections[index])
    }

    pub fn set_table(&mut self, index: usize, table: &Indexed) {
        self.sections[index] = table.to_bytes();
    }

    /// Appends `item` to the payload of table section `index` with an entry for it; its id.
    /// For SETS, `item` is the little-endian member ids and the entry counts members.
    pub fn push_item(&mut self, index: usize, item: &[u8]) -> u32 {
        let mut table = self.table(index);
        let unit = if index == SETS { 4 } else { 1 };
        let start = (table.payload.len() / unit) as u32;
        table.entries.push((start, (item.len() / unit) as u32));
        table.payload.extend_from_slice(item);
        self.set_table(index, &table);
        table.entries.len() as u32 - 1
    }

    pub fn add_string(&mut self, text: &[u8]) -> u32 {
        self.push_item(STRINGS, text)
    }

    pub fn add_set(&mut self, members: &[u32]) -> u32 {
        let bytes: Vec<u8> = members.iter().flat_map(|m| m.to_le_bytes()).collect();
        self.push_item(SETS, &bytes)
    }

    pub fn add_dfa(&mut self, blob: &[u8]) -> u32 {
        self.push_item(DFAS, blob)
    }

    /// Number of entries of table section `index`, or of records of record section `index`.
    pub fn count(&self, index: usize) -> u32 {
        match index {
            STRINGS | SETS | DFAS => word(&self.sections[index], 0),
            RULES => (self.sections[index].len() / format::RULE_LEN) as u32,
            TOOLS => self.tools().len() as u32,
            _ => (self.sections[index].len() / 16) as u32,
        }
    }

    /// Appends a record to record section `index`; its index. A TOOLS record in a format 1.3
    /// artifact goes in with a rebuilt index (see [`Parts::set_tools`]).
    pub fn push_record(&mut self, index: usize, record: &[u8]) -> u32 {
        let count = self.count(index);
        if index == TOOLS && self.minor() >= format::TOOL_INDEX_MINOR {
            let mut tools = self.tools();
            tools.push((word(record, 0), word(record, 4)));
            self.set_tools(&tools);
        } else {
            self.sections[index].extend_from_slice(record);
        }
        count
    }

    /// The header's `format_minor`.
    pub fn minor(&self) -> u16 {
        u16::from_le_bytes([self.header[10], self.header[11]])
    }

    /// The TOOLS records `(name, entry)`, whatever the minor.
    pub fn tools(&self) -> Vec<(u32, u32)> {
        let body = &self.sections[TOOLS];
        let (start, count) = if self.minor() >= format::TOOL_INDEX_MINOR {
            (format::TOOLS_HEADER_LEN, word(body, 0) as usize)
        } else {
            (0, body.len() / format::TOOL_LEN)
        };
        (0..count).map(|i| (word(body, start + 8 * i), word(body, start + 8 * i + 4))).collect()
    }

    /// The TOOLS index of a format 1.3 artifact: `(seed, bucket_count, max_probe, buckets)`.
    pub fn tool_index(&self) -> (u32, u32, u32, Vec<u32>) {
        let body = &self.sections[TOOLS];
        let count = word(body, 0) as usize;
        let buckets = word(body, 8) as usize;
        let start = format::TOOLS_HEADER_LEN + 8 * count;
        let slots = (0..buckets).map(|i| word(body, start + 4 * i)).collect();
        (word(body, 4), word(body, 8), word(body, 12), slots)
    }

    /// The bytes of string `id`, or empty if there is no such string.
    pub fn string(&self, id: u32) -> Vec<u8> {
        self.strings(&[id]).remove(0)
    }

    /// The bytes of strings `ids` (empty for an id that is no string), parsing STRINGS once.
    pub fn strings(&self, ids: &[u32]) -> Vec<Vec<u8>> {
        let table = self.table(STRINGS);
        let text = |id: u32| {
            let (offset, len) = table.entries.get(id as usize).copied()?;
            table.payload.get(offset as usize..(offset + len) as usize)
        };
        ids.iter().map(|&id| text(id).unwrap_or(&[]).to_vec()).collect()
    }

    /// Replaces the TOOLS records; in a format 1.3 artifact with the index the compiler would
    /// build over their names (`mcppol_compiler::emit::tool_index`).
    pub fn set_tools(&mut self, tools: &[(u32, u32)]) {
        if self.minor() < format::TOOL_INDEX_MINOR {
            self.sections[TOOLS] =
                tools.iter().flat_map(|&(n, e)| [n, e]).flat_map(u32::to_le_bytes).collect();
            return;
        }
        let names = self.strings(&tools.iter().map(|&(name, _)| name).collect::<Vec<_>>());
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        let index = mcppol_compiler::emit::tool_index(&refs);
        self.set_tool_section(
            tools.len() as u32,
            (index.seed, index.bucket_count, index.max_probe),
            tools,
            &index.buckets,
        );
    }

    /// Writes a format 1.3 TOOLS section from its parts, as given (for crafting bad ones).
    pub fn set_tool_section(
        &mut self,
        count: u32,
        (seed, bucket_count, max_probe): (u32, u32, u32),
        tools: &[(u32, u32)],
        buckets: &[u32],
    ) {
        let words = [count, seed, bucket_count, max_probe]
            .into_iter()
            .chain(tools.iter().flat_map(|&(n, e)| [n, e]))
            .chain(buckets.iter().copied());
        self.sections[TOOLS] = words.flat_map(u32::to_le_bytes).collect();
    }

    /// Makes this a format 1.2 artifact: the minor in the header, TOOLS without its index.
    pub fn downgrade_to_1_2(&mut self) {
        let tools = self.tools();
        self.header[10..12].copy_from_slice(&2u16.to_le_bytes());
        self.set_tools(&tools);
    }

    /// Record `record` of record section `index`, `len` bytes long, for editing.
    pub fn record_mut(&mut self, index: usize, record: usize, len: usize) -> &mut [u8] {
        &mut self.sections[index][record * len..(record + 1) * len]
    }
}

/// The smallest valid DFA blob: a dead state and a start state that leads to it, one class.
pub fn minimal_dfa() -> Vec<u8> {
    dfa_blob(2, 1)
}

/// A valid DFA blob with `states` states and `classes` classes: every transition goes to the
/// dead state, the start state is 1, no flags.
pub fn dfa_blob(states: u32, classes: u32) -> Vec<u8> {
    let mut blob = Vec::new();
    for value in [states, classes, 1] {
        blob.extend_from_slice(&value.to_le_bytes());
    }
    blob.extend_from_slice(&[0u8; 256]);
    blob.resize(blob.len() + 2 * states as usize * classes as usize + states as usize, 0);
    blob
}

/// Plain linear-probing placement of `names` (tool `i` named `names[i]`, in index order) into
/// `bucket_count` buckets with `seed`: the buckets and each tool's probe count (distance from
/// its home bucket, plus one). For crafting indexes the compiler would not build.
pub fn place_tools(names: &[Vec<u8>], seed: u32, bucket_count: u32) -> (Vec<u32>, Vec<u32>) {
    let mask = bucket_count - 1;
    let mut buckets = vec![format::TOOL_EMPTY; bucket_count as usize];
    let mut probes = Vec::new();
    for (tool, name) in names.iter().enumerate() {
        let mut slot = format::tool_hash(seed, name) & mask;
        let mut count = 1;
        while buckets[slot as usize] != format::TOOL_EMPTY {
            slot = (slot + 1) & mask;
            count += 1;
        }
        buckets[slot as usize] = tool as u32;
        probes.push(count);
    }
    (buckets, probes)
}
