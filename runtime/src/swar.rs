//! Byte tests on eight bytes at a time ("SIMD within a register"), for the hot loops of the
//! path normaliser, the substring test and short comparisons: plain `u64` arithmetic, no `unsafe`, no target
//! features, the same answer on every machine.

/// `0x01` in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;
/// `0x7f` in every byte.
pub(crate) const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of every byte of `w` that equals `c`, exactly: adding `0x7f` to the low seven
/// bits never carries out of a byte, so no borrow crosses bytes (unlike the usual
/// `(x - ONES) & !x & HIGH`, which may also mark bytes above a match).
#[inline(always)]
pub(crate) fn eq_mask(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
}

/// `a == b`, a word at a time, with no call out (keys, tool names and
/// short policy strings are a handful of bytes, and a library call costs more than comparing
/// them). Every byte is in some compared word, as in [`crate::format::tool_hash`].
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word = |bytes: &[u8], at: usize| {
        bytes.get(at..at.saturating_add(8)).and_then(|w| <[u8; 8]>::try_from(w).ok())
    };
    let half = |bytes: &[u8], at: usize| {
        bytes.get(at..at.saturating_add(4)).and_then(|w| <[u8; 4]>::try_from(w).ok())
    };
    if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, len - 8) == word(b, len - 8)
    } else if len >= 4 {
        half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4)
    } else {
        a.first() == b.first() && a.get(len / 2) == b.get(len / 2) && a.last() == b.last()
    }
}

/// The little-endian word of the eight bytes of `bytes` at `at`, if there are eight.
#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?))
}

/// Whether `needle` occurs in `haystack`, eight candidate positions at a time: a position is a
/// candidate when the needle's first and last bytes both match there (two word loads, the
/// second offset by the needle's length), and only candidates are compared in full. For a
/// needle of one or two bytes the filter alone decides, so the common policy needles (`..`,
/// `;`, `$(`) are never compared.
#[inline]
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else { return true };
    let Some(last_start) = haystack.len().checked_sub(needle.len()) else { return false };
    let span = needle.len() - 1;
    if span <= 1 && haystack.len() >= 8 {
        // A needle of one or two bytes fits in any word that holds its first byte in one of
        // the first `8 - span` places: one load per `8 - span` starts, no second load, no carry
        // between words. The last word overlaps the one before (starts already rejected).
        let stride = 8 - span;
        let mut base = 0;
        loop {
            let Some(w) = word_at(haystack, base) else { return false };
            if eq_mask(w, first) & (eq_mask(w, last) >> (8 * span)) != 0 {
                return true;
            }
            if base + 8 >= haystack.len() {
                return false;
            }
            base = (base + stride).min(haystack.len() - 8);
        }
    }
    if last_start < 7 {
        // Fewer than eight candidate starts: not worth a word step.
        return (0..=last_start).any(|at| {
            haystack.get(at..at + needle.len()).is_some_and(|text| same_bytes(text, needle))
        });
    }
    let mut base = 0;
    loop {
        let (Some(a), Some(b)) = (word_at(haystack, base), word_at(haystack, base + span)) else {
            return false;
        };
        let mut candidates = eq_mask(a, first) & eq_mask(b, last);
        while candidates != 0 {
            let at = base + (candidates.trailing_zeros() / 8) as usize;
            if span < 2
                || haystack.get(at..at + needle.len()).is_some_and(|text| same_bytes(text, needle))
            {
                return true;
            }
            candidates &= candidates - 1;
        }
        if base + 7 >= last_start {
            return false;
        }
        // The next eight starts, or the last eight, overlapping starts already rejected
        // (rejecting them again changes nothing).
        base = (base + 8).min(last_start - 7);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    #[test]
    fn eq_mask_marks_exactly_the_equal_bytes() {
        // Every byte value against every target, in every position, beside its neighbours
        // that differ by one (where a borrow or carry would show).
        for c in 0..=255u8 {
            for b in 0..=255u8 {
                for at in 0..8 {
                    let mut bytes = [b.wrapping_add(1); 8];
                    bytes[at] = b;
                    if at > 0 {
                        bytes[at - 1] = b.wrapping_sub(1);
                    }
                    let w = u64::from_le_bytes(bytes);
                    let expected = bytes
                        .iter()
                        .enumerate()
                        .filter(|&(_, &x)| x == c)
                        .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
                    assert_eq!(eq_mask(w, c), expected, "{bytes:?} {c}");
                }
            }
        }
    }

    #[test]
    fn contains_agrees_with_the_definition() {
        // Needles of one to four bytes over a small alphabet, so hits, near misses, overlaps
        // and hits in the last positions all occur, in haystacks of every length up to three
        // words and more (the word steps, the overlapping last step and the short path).
        let alphabet = b"a.b";
        let mut state = 7u32;
        let mut haystacks: Vec<Vec<u8>> = (0..=40)
            .map(|len| {
                (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        alphabet[(state >> 16) as usize % alphabet.len()]
                    })
                    .collect()
            })
            .collect();
        haystacks.push(b"/workspace/src/main.rs".to_vec());
        haystacks.push(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.".to_vec());
        haystacks.push(b"...............................b".to_vec());
        for haystack in &haystacks {
            for len in 1..=4usize {
                for code in 0..alphabet.len().pow(len as u32) {
                    let mut code = code;
                    let needle: [u8; 4] = core::array::from_fn(|_| {
                        let b = alphabet[code % alphabet.len()];
                        code /= alphabet.len();
                        b
                    });
                    let needle = &needle[..len];
                    let expected = haystack.windows(len).any(|window| window == needle);
                    assert_eq!(contains(haystack, needle), expected, "{haystack:?} {needle:?}");
                }
            }
            assert!(contains(haystack, b""));
        }
    }
}
