//! Random identifiers drawn from the operating system's CSPRNG.
//!
//! Values a client may come to rely on as unguessable (a customer key can
//! end up used as a key or salt elsewhere) must not come from a fast,
//! predictable generator: one output of `fastrand`'s wyrand reveals its
//! state. Each character is drawn by rejection sampling, so every letter of
//! the alphabet stays exactly equally likely (a plain `byte % len` would
//! favour the first `256 % len` letters).

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// `len` characters drawn uniformly and independently from `alphabet`
/// (ASCII, 1 to 256 distinct bytes) with the OS CSPRNG.
pub fn string_from(alphabet: &[u8], len: usize) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256 && alphabet.is_ascii());
    // The largest multiple of the alphabet's length a byte can hold: bytes
    // at or above it are discarded, the rest map evenly onto the alphabet.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut buffer = [0u8; 32];
    while out.len() < len {
        OsRng.fill_bytes(&mut buffer);
        for byte in buffer {
            if out.len() == len {
                break;
            }
            if usize::from(byte) < limit {
                out.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_the_length_asked_and_only_letters_of_the_alphabet() {
        for len in [0, 1, 10, 33, 100] {
            let s = string_from(b"abc", len);
            assert_eq!(s.len(), len);
            assert!(s.bytes().all(|b| b"abc".contains(&b)), "{s}");
        }
    }

    #[test]
    fn every_letter_is_about_equally_likely() {
        // 31 letters: a `% 31` without rejection would give the first
        // 256 % 31 = 8 letters 9/256 of the draws and the rest 8/256, a
        // 12.5 % bias this bound would catch over 310,000 draws.
        const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
        let s = string_from(ALPHABET, 310_000);
        let mut counts = [0usize; 256];
        for b in s.bytes() {
            counts[usize::from(b)] += 1;
        }
        for &letter in ALPHABET {
            let n = counts[usize::from(letter)];
            // Expected 10,000 each; the standard deviation is about 98.
            assert!(
                (9_400..=10_600).contains(&n),
                "{} drawn {n} times",
                char::from(letter)
            );
        }
    }
}
