//! All randomness of the simulator: the OS generator, or a seeded one when
//! `CLOUDHSM_SIM_SEED` is set so that runs can be repeated.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// A source of random bytes.
#[derive(Debug)]
pub struct Entropy {
    rng: ChaCha20Rng,
    seed: Option<u64>,
}

impl Entropy {
    /// A generator seeded from `seed`, or from the operating system when `None`.
    pub fn new(seed: Option<u64>) -> Entropy {
        let rng = match seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_entropy(),
        };
        Entropy { rng, seed }
    }

    /// A generator for one object identified by `context` (a key reference). Seeded runs give
    /// each object its own stream of the seed, so the same seed and reference always give the
    /// same key material, however many processes share the cluster; unseeded runs draw from
    /// the operating system.
    pub fn derive(&self, context: u64) -> Entropy {
        match self.seed {
            Some(seed) => {
                let mut rng = ChaCha20Rng::seed_from_u64(seed);
                rng.set_stream(context);
                Entropy {
                    rng,
                    seed: Some(seed),
                }
            }
            None => Entropy::new(None),
        }
    }

    /// The generator of the `position`th use of the object `context`: in seeded runs, a
    /// block of the object's stream of its own (so distinct uses never share output, and the
    /// same use of the same seed repeats); unseeded runs draw from the operating system.
    pub fn derive_use(&self, context: u64, position: u64) -> Entropy {
        let mut derived = self.derive(context);
        if self.seed.is_some() {
            // 16 words (one ChaCha20 block, 64 bytes) per use.
            derived.rng.set_word_pos(u128::from(position) << 4);
        }
        derived
    }

    /// Whether this generator is seeded (`CLOUDHSM_SIM_SEED`): output must then be repeatable.
    pub fn is_seeded(&self) -> bool {
        self.seed.is_some()
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.rng.fill_bytes(buf);
    }

    /// `n` random characters from `[a-z0-9]`, as in AWS cluster and HSM ids.
    pub fn id_chars(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| {
                // 252 = 7 * 36: reject the tail so every character is equally likely.
                loop {
                    let b = (self.rng.next_u32() & 0xff) as usize;
                    if b < 252 {
                        break char::from(ALPHABET[b % 36]);
                    }
                }
            })
            .collect()
    }

    /// A random number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        self.rng.next_u32() % bound.max(1)
    }
}

impl RngCore for Entropy {
    fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.rng.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.rng.try_fill_bytes(dest)
    }
}

/// ChaCha20 is a cryptographically secure generator, seeded or not.
impl rand_core::CryptoRng for Entropy {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_of_one_object_differ_and_repeat() {
        let base = Entropy::new(Some(7));
        let iv = |context, position| {
            let mut buf = [0u8; 12];
            base.derive_use(context, position).fill(&mut buf);
            buf
        };
        assert_eq!(iv(0x30, 1), iv(0x30, 1));
        assert_ne!(iv(0x30, 1), iv(0x30, 2));
        assert_ne!(iv(0x30, 1), iv(0x31, 1));
        let unseeded = Entropy::new(None);
        let mut a = [0u8; 12];
        let mut b = [0u8; 12];
        unseeded.derive_use(0x30, 1).fill(&mut a);
        unseeded.derive_use(0x30, 1).fill(&mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn seeded_is_repeatable() {
        let a = Entropy::new(Some(7)).id_chars(11);
        let b = Entropy::new(Some(7)).id_chars(11);
        assert_eq!(a, b);
        assert_ne!(a, Entropy::new(Some(8)).id_chars(11));
        let base = Entropy::new(Some(7));
        assert_eq!(base.derive(0x30).id_chars(8), base.derive(0x30).id_chars(8));
        assert_ne!(base.derive(0x30).id_chars(8), base.derive(0x31).id_chars(8));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }
}
