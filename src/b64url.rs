//! Strict base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2 and Appendix C).
//! The decoder rejects what lenient decoders such as `atob` accept: `+`, `/`, `=`, white space, a length
//! of 4n+1, and non-zero trailing bits (a second spelling of the same bytes).

#[allow(unused_imports)]
use crate::prelude::*;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0) as u32;
        let b1 = chunk.get(1).copied().unwrap_or(0) as u32;
        let b2 = chunk.get(2).copied().unwrap_or(0) as u32;
        let n = (b0 << 16) | (b1 << 8) | b2;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 63;
            out.push(ALPHABET.get(idx as usize).copied().unwrap_or(b'A') as char);
        }
    }
    out
}

/// The value of each byte as a base64url digit; 64 for bytes outside the alphabet.
#[allow(clippy::indexing_slicing)] // evaluated at compile time: an out-of-range index would not compile
const VALUES: [u8; 256] = {
    let mut t = [64u8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Four digits (a shorter tail padded with `A`) as 24 bits; `None` if one is outside the alphabet.
fn quantum(chars: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for i in 0..4 {
        let v = VALUES.get(*chars.get(i).unwrap_or(&b'A') as usize).copied().unwrap_or(64);
        if v == 64 {
            return None;
        }
        n = (n << 6) | v as u32;
    }
    Some(n)
}

/// Decodes strict unpadded base64url; `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let input = text.as_bytes();
    let tail = input.len() % 4;
    if tail == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    for chunk in &mut chunks {
        let n = quantum(chunk)?;
        out.push((n >> 16) as u8);
        out.push((n >> 8) as u8);
        out.push(n as u8);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let n = quantum(rest)?;
        // 3 chars -> 2 bytes, 2 -> 1. Canonical form: the bits after the last whole byte must be zero.
        let (bytes, unused) = if tail == 3 { (2, n & 0xFF) } else { (1, n & 0xFFFF) };
        if unused != 0 {
            return None;
        }
        out.push((n >> 16) as u8);
        if bytes == 2 {
            out.push((n >> 8) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0u8..=255).collect();
        for len in 0..40 {
            let enc = encode(&data[..len]);
            assert!(!enc.contains('='));
            assert_eq!(decode(&enc).as_deref(), Some(&data[..len]));
        }
    }

    #[test]
    fn rfc4648_vectors_in_url_alphabet() {
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
    }

    #[test]
    fn rejects_what_atob_would_accept() {
        assert_eq!(decode("Zm8="), None, "padding");
        assert_eq!(decode("+/8"), None, "standard alphabet");
        assert_eq!(decode("Zm 8"), None, "white space");
        assert_eq!(decode("Zm9vY"), None, "4n+1 length");
        assert_eq!(decode("Zm9"), None, "non-zero trailing bits");
        assert_eq!(decode("Zm8"), Some(b"fo".to_vec()), "the canonical twin passes");
    }
}
