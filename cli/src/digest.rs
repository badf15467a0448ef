//! The digests fledge puts in versions, cache keys and file names.

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 over parts that each carry their length, so that moving bytes from one part to the next
/// changes the digest: the content version, the serialization cache key and the warm serializer's
/// key are made this way.
#[derive(Default)]
pub struct LengthPrefixed(Sha256);

impl LengthPrefixed {
    pub fn part(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_boundaries() {
        let digest = |parts: &[&str]| {
            let mut d = LengthPrefixed::default();
            parts.iter().for_each(|p| d.part(p));
            hex(&d.finish())
        };
        assert_eq!(digest(&["ab", "c"]), digest(&["ab", "c"]));
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
