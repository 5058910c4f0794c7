//! Exact comparison of two decimal numbers written as JSON number text, with no floats.
//!
//! A number `-12.50e3` is read as a sign, a digit string with leading and trailing zeros
//! removed (`125`), and the position of the decimal point relative to those digits (`5`,
//! meaning `0.125 × 10^5`). Two numbers compare by sign, then point, then digits. Exponents
//! saturate at ±2^60, far beyond any digit count an input can have, so `1e999999999999999999`
//! is simply huge, never an overflow. Two numbers whose exponents both saturate compare by
//! digits alone; a policy bound never gets there (the compiler writes bounds from `f64`s, whose
//! exponents stay within ±400), so every comparison the evaluator makes is exact.

use core::cmp::Ordering;

/// A parsed decimal: borrowed digit runs, no allocation.
#[derive(Clone, Copy, Debug)]
struct Decimal<'a> {
    negative: bool,
    /// Integer-part digits, then fraction digits (the `.` removed), untrimmed.
    int_part: &'a [u8],
    frac_part: &'a [u8],
    /// Position of the point relative to the first significant digit.
    point: i64,
    /// Index in `int_part ++ frac_part` of the first and one past the last significant digit.
    first: usize,
    end: usize,
}

impl Decimal<'_> {
    fn digit(&self, index: usize) -> u8 {
        let int_len = self.int_part.len();
        let byte = if index < int_len {
            self.int_part.get(index)
        } else {
            self.frac_part.get(index.wrapping_sub(int_len))
        };
        byte.copied().unwrap_or(b'0')
    }

    fn is_zero(&self) -> bool {
        self.first >= self.end
    }
}

/// Parses JSON number text. `None` if it is not a JSON number.
fn parse(text: &[u8]) -> Option<Decimal<'_>> {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mantissa_end = rest.iter().position(|&b| b == b'e' || b == b'E').unwrap_or(rest.len());
    let (mantissa, exponent_text) = rest.split_at(mantissa_end);
    let (int_part, frac_part) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let fraction = mantissa.get(dot.checked_add(1)?..)?;
            if fraction.is_empty() {
                return None;
            }
            (mantissa.get(..dot)?, fraction)
        }
        None => (mantissa, &[][..]),
    };
    if int_part.is_empty() || !int_part.iter().chain(frac_part).all(u8::is_ascii_digit) {
        return None;
    }
    let exponent = match exponent_text.get(1..) {
        None => 0,
        Some([]) => return None,
        Some(after_e) => parse_exponent(after_e)?,
    };
    let total = int_part.len().checked_add(frac_part.len())?;
    let mut decimal = Decimal { negative, int_part, frac_part, point: 0, first: 0, end: total };
    while decimal.first < decimal.end && decimal.digit(decimal.first) == b'0' {
        decimal.first = decimal.first.checked_add(1)?;
    }
    while decimal.end > decimal.first && decimal.digit(decimal.end.checked_sub(1)?) == b'0' {
        decimal.end = decimal.end.checked_sub(1)?;
    }
    // Inputs are at most a few MiB, so these conversions and sums cannot overflow an i64;
    // the exponent saturates at ±2^60.
    let int_len = i64::try_from(int_part.len()).ok()?;
    let first = i64::try_from(decimal.first).ok()?;
    decimal.point = int_len.checked_sub(first)?.checked_add(exponent)?;
    Some(decimal)
}

/// The exponent after `e`, saturated to ±2^60. An empty exponent (no `e`) is 0.
fn parse_exponent(text: &[u8]) -> Option<i64> {
    const LIMIT: i64 = 1 << 60;
    if text.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &digit in digits {
        value = value.saturating_mul(10).saturating_add(i64::from(digit - b'0')).min(LIMIT);
    }
    Some(if negative { -value } else { value })
}

/// Compares two JSON number texts exactly. `None` if either is not a JSON number.
pub fn compare(left: &[u8], right: &[u8]) -> Option<Ordering> {
    let (left, right) = (parse(left)?, parse(right)?);
    let sign = |d: &Decimal<'_>| -> i8 {
        if d.is_zero() {
            0
        } else if d.negative {
            -1
        } else {
            1
        }
    };
    let (left_sign, right_sign) = (sign(&left), sign(&right));
    if left_sign != right_sign || left_sign == 0 {
        return Some(left_sign.cmp(&right_sign));
    }
    let mut magnitude = left.point.cmp(&right.point);
    if magnitude == Ordering::Equal {
        let left_len = left.end.saturating_sub(left.first);
        let right_len = right.end.saturating_sub(right.first);
        magnitude = Ordering::Equal;
        for offset in 0..left_len.max(right_len) {
            let a = if offset < left_len {
                left.digit(left.first.saturating_add(offset))
            } else {
                b'0'
            };
            let b = if offset < right_len {
                right.digit(right.first.saturating_add(offset))
            } else {
                b'0'
            };
            if a != b {
                magnitude = a.cmp(&b);
                break;
            }
        }
    }
    Some(if left_sign < 0 { magnitude.reverse() } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::compare;
    use core::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn compares_exactly() {
        let cases: [(&[u8], &[u8], core::cmp::Ordering); 14] = [
            (b"1", b"1.0", Equal),
            (b"1.0000000000000001", b"1", Greater),
            (b"1e-400", b"0", Greater),
            (b"-1e-400", b"0", Less),
            (b"0", b"-0.0", Equal),
            (b"99.5", b"99.49999999999999999999", Greater),
            (b"1e400", b"9223372036854775807", Greater),
            (b"-1e400", b"-9223372036854775808", Less),
            (b"12.5e1", b"125", Equal),
            (b"0.001", b"1e-3", Equal),
            (b"-2", b"-10", Greater),
            (b"100", b"99.9", Greater),
            (b"1e999999999999999999999", b"1e308", Greater),
            (b"0.1", b"0.10", Equal),
        ];
        for (left, right, expected) in cases {
            assert_eq!(compare(left, right), Some(expected), "{left:?} vs {right:?}");
            assert_eq!(compare(right, left), Some(expected.reverse()));
        }
    }

    #[test]
    fn rejects_non_numbers() {
        for text in [&b""[..], b"-", b".5", b"1.", b"1e", b"1e+", b"abc", b"1.2.3"] {
            assert_eq!(compare(text, b"1"), None, "{text:?}");
        }
    }
}
