//! Byte tests on eight bytes at a time ("SIMD within a register"), for the hot loops of the
//! path normaliser and the substring test: plain `u64` arithmetic, no `unsafe`, no target
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

/// The first index in `from..to` at which `haystack` holds `byte`, or `None` (also when the
/// range is not inside `haystack`).
#[inline]
pub(crate) fn find_byte(haystack: &[u8], mut from: usize, to: usize, byte: u8) -> Option<usize> {
    if to > haystack.len() {
        return None;
    }
    while to.checked_sub(from).is_some_and(|left| left >= 8) {
        let word = haystack.get(from..from.checked_add(8)?)?;
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?);
        let hits = eq_mask(w, byte);
        if hits != 0 {
            return Some(from + (hits.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    let tail = haystack.get(from..to)?;
    tail.iter().position(|&b| b == byte).map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn find_byte_agrees_with_position() {
        let haystack: [u8; 40] = core::array::from_fn(|i| (i * 7 % 11) as u8);
        for byte in 0..12u8 {
            for from in 0..=40 {
                for to in from..=40 {
                    let expected =
                        haystack[from..to].iter().position(|&b| b == byte).map(|p| from + p);
                    assert_eq!(find_byte(&haystack, from, to, byte), expected);
                }
            }
        }
        assert_eq!(find_byte(&haystack, 5, 41, 0), None);
        assert_eq!(find_byte(&haystack, 6, 5, 0), None);
    }
}
